"""Redo custom events as an ingest-pipeline adapter (see :mod:`cartwheel.wire.pipeline`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.ingest.properties import Part
from cartwheel.wire.pipeline import BatchAdapter, Item
from cartwheel.wire.redo import answers, decode, errors, mapping

Event = dict[str, Any]


class RedoAdapter:
    name = "redo"

    def decode(self, body: bytes) -> Event:
        return decode.decode(body)

    def decode_batch(self, body: bytes, max_events: int) -> list[Any]:
        return decode.decode_batch(body, max_events)

    def decode_item(self, item: Any) -> Event:
        return decode.decode_item(item)

    def limited(self, payload: Event) -> Iterable[Part]:
        return decode.limited(payload)

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

    def render_error(self, request: Request, exc: AppError) -> Response:
        return errors.render_error(request, exc)


ADAPTER: BatchAdapter[Event] = RedoAdapter()
