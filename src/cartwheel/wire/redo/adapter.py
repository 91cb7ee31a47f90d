"""Redo custom events as an ingest-pipeline adapter (see :mod:`cartwheel.wire.pipeline`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.wire.pipeline import BatchAdapter, Item
from cartwheel.wire.redo import answers, errors, mapping
from cartwheel.wire.redo import decode as decoding

Event = dict[str, Any]


class RedoAdapter:
    name = "redo"
    # The module functions themselves: one call less per step on the hot path.
    decode = staticmethod(decoding.decode)
    decode_batch = staticmethod(decoding.decode_batch)
    decode_item = staticmethod(decoding.decode_item)
    limited = staticmethod(decoding.limited)
    render_error = staticmethod(errors.render_error)

    def to_canonical(self, store_id: int, payload: Event, request: Request) -> CanonicalEvent:
        return mapping.to_canonical(payload, store_id)

    def answer(
        self,
        request: Request,
        payload: Event,
        event: CanonicalEvent,
        outcome: IngestResult | AppError,
        headers: Mapping[str, str] | None,
    ) -> Response:
        return answers.answer(outcome, headers)

    def answer_batch(
        self, request: Request, items: list[Item[Event]], headers: Mapping[str, str] | None
    ) -> Response:
        return answers.answer_batch(items, headers)


ADAPTER: BatchAdapter[Event] = RedoAdapter()
