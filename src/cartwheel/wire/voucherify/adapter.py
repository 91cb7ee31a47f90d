"""Voucherify as an ingest-pipeline adapter (see :mod:`cartwheel.wire.pipeline`)."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.ingest.properties import Part
from cartwheel.wire.pipeline import Adapter
from cartwheel.wire.voucherify import answers, decode, errors, mapping
from cartwheel.wire.voucherify.schemas import ClientEvent


class VoucherifyAdapter:
    name = "voucherify"

    def decode(self, body: bytes) -> ClientEvent:
        return decode.decode(body)

    def limited(self, payload: ClientEvent) -> Iterable[Part]:
        return decode.limited(payload)

    def to_canonical(self, store_id: int, payload: ClientEvent, request: Request) -> CanonicalEvent:
        return mapping.to_canonical(store_id, payload)

    def answer(
        self,
        request: Request,
        payload: ClientEvent,
        event: CanonicalEvent,
        outcome: IngestResult | AppError,
        headers: Mapping[str, str] | None,
    ) -> Awaitable[Response]:
        return answers.answer(request, payload, event, outcome, headers)

    def render_error(self, request: Request, exc: AppError) -> Response:
        return errors.render_error(request, exc)


ADAPTER: Adapter[ClientEvent] = VoucherifyAdapter()
