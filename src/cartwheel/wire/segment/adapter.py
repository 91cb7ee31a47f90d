"""The tracking spec as an ingest-pipeline adapter (see :mod:`cartwheel.wire.pipeline`): one
adapter per call type for the single calls (the path names the type), and one for batches
(each message names its own)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.wire.pipeline import BatchAdapter, Item
from cartwheel.wire.segment import answers, errors, mapping
from cartwheel.wire.segment import decode as decoding
from cartwheel.wire.segment.decode import Message


class SegmentAdapter:
    name = "segment"
    limited = staticmethod(decoding.limited)
    decode_item = staticmethod(decoding.decode_item)
    render_error = staticmethod(errors.render_error)

    def __init__(self, call_type: str | None = None) -> None:
        #: The type of a single call's endpoint; None for batches.
        self.call_type = call_type

    def decode(self, body: bytes) -> Message:
        return decoding.decode(body, self.call_type or "track")

    def decode_batch(self, body: bytes, max_events: int) -> list[tuple[msgspec.Raw, Message]]:
        # The spec bounds a batch by its size (500 KB, the pipeline's body limit for the
        # batch endpoints), not by a count of messages.
        return decoding.decode_batch(body)

    def to_canonical(self, store_id: int, payload: Message, request: Request) -> CanonicalEvent:
        client = request.client
        return mapping.to_canonical(store_id, payload, client.host if client else None)

    def answer(
        self,
        request: Request,
        payload: Message,
        event: CanonicalEvent,
        outcome: IngestResult | AppError,
        headers: Mapping[str, str] | None,
    ) -> Response:
        return answers.answer(request, outcome, headers)

    def answer_batch(
        self, request: Request, items: list[Item[Message]], headers: Mapping[str, str] | None
    ) -> Response:
        return answers.answer_batch(request, items, headers)


#: The batch adapter (``/v1/batch``, ``/v1/import``, the browser's ``/v1/b``).
ADAPTER: BatchAdapter[Message] = SegmentAdapter()
#: One adapter per single call type.
CALL_ADAPTERS: dict[str, Any] = {kind: SegmentAdapter(kind) for kind in mapping.TYPES}
