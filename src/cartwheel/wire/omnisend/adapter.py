"""The Omnisend Events API as an ingest-pipeline adapter (see :mod:`cartwheel.wire.pipeline`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.ingest.properties import Part
from cartwheel.wire.omnisend import answers, decode, errors, mapping
from cartwheel.wire.pipeline import Adapter

Event = dict[str, Any]


class OmnisendAdapter:
    name = "omnisend"

    def decode(self, body: bytes) -> Event:
        return decode.decode(body)

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

    def render_error(self, request: Request, exc: AppError) -> Response:
        return errors.render_error(request, exc)


ADAPTER: Adapter[Event] = OmnisendAdapter()
