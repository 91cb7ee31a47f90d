"""Voucherify as an ingest-pipeline adapter (see :mod:`cartwheel.wire.pipeline`)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.wire.pipeline import Adapter
from cartwheel.wire.voucherify import answers, errors, mapping
from cartwheel.wire.voucherify import decode as decoding
from cartwheel.wire.voucherify.schemas import ClientEvent


class VoucherifyAdapter:
    name = "voucherify"
    # The module functions themselves: one call less per step on the hot path.
    decode = staticmethod(decoding.decode)
    limited = staticmethod(decoding.limited)
    render_error = staticmethod(errors.render_error)

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


ADAPTER: Adapter[ClientEvent] = VoucherifyAdapter()
