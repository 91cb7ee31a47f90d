"""The native format as an ingest-pipeline adapter (see :mod:`cartwheel.wire.pipeline`)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.wire.native import answers, errors, mapping
from cartwheel.wire.native import decode as decoding
from cartwheel.wire.native.schemas import NativeEvent
from cartwheel.wire.pipeline import BatchAdapter, Item


class NativeAdapter:
    # The module functions themselves, not wrappers: one call less per step on the hot path.
    name = "native"
    decode = staticmethod(decoding.decode_event)
    decode_batch = staticmethod(decoding.decode_batch)
    limited = staticmethod(decoding.limited)
    render_error = staticmethod(errors.render_error)

    def decode_item(self, item: msgspec.Raw) -> NativeEvent:
        return decoding.decode_event(bytes(item))

    def to_canonical(self, store_id: int, payload: NativeEvent, request: Request) -> CanonicalEvent:
        return mapping.to_canonical(store_id, payload)

    def answer(
        self,
        request: Request,
        payload: NativeEvent,
        event: CanonicalEvent,
        outcome: IngestResult | AppError,
        headers: Mapping[str, str] | None,
    ) -> Response:
        return answers.answer(outcome, headers)

    def answer_batch(
        self, request: Request, items: list[Item[NativeEvent]], headers: Mapping[str, str] | None
    ) -> Response:
        return answers.answer_batch(items, headers)


ADAPTER: BatchAdapter[NativeEvent] = NativeAdapter()
