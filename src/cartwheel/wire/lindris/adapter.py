"""The Lindris Events API as ingest-pipeline adapters (see :mod:`cartwheel.wire.pipeline`):
one for the generic endpoint and one per lifecycle event type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.ingest.properties import Part
from cartwheel.wire.lindris import answers, decode, errors, mapping
from cartwheel.wire.lindris.requests import EventType
from cartwheel.wire.pipeline import Adapter

Body = dict[str, Any]


class LindrisAdapter:
    name = "lindris"

    def __init__(self, event_type: EventType | None = None) -> None:
        #: None for ``POST /api/events``; the lifecycle type of ``/api/events/{type}/…``.
        self.event_type = event_type

    def decode(self, body: bytes) -> Body:
        return decode.decode(body)

    def limited(self, payload: Body) -> Iterable[Part]:
        return decode.limited(payload)

    def to_canonical(self, store_id: int, payload: Body, request: Request) -> CanonicalEvent:
        # The route validated ``action`` against the type's actions before authenticating.
        action: str = request.path_params.get("action", "")
        return mapping.to_canonical(store_id, payload, self.event_type, action)

    def answer(
        self,
        request: Request,
        payload: Body,
        event: CanonicalEvent,
        outcome: IngestResult | AppError,
        headers: Mapping[str, str] | None,
    ) -> Response:
        return answers.answer(event, outcome, headers)

    def render_error(self, request: Request, exc: AppError) -> Response:
        return errors.render_error(request, exc)


ADAPTER: Adapter[Body] = LindrisAdapter()
