"""Voucherify's answer: 200 with the documented ``event`` object, the customer as Cartwheel
now knows it (read after the commit), and CORS headers for the allowed origin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cartwheel.contacts import service as contacts
from cartwheel.db import Database
from cartwheel.exceptions import AppError, NotFound
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.runtime import Runtime
from cartwheel.wire.voucherify.errors import VoucherifyError, allow_origin
from cartwheel.wire.voucherify.schemas import ClientEvent


async def answer(
    request: Request,
    payload: ClientEvent,
    event: CanonicalEvent,
    outcome: IngestResult | AppError,
    headers: Mapping[str, str] | None,
) -> Response:
    if isinstance(outcome, NotFound):
        customer_id = payload.customer.id if payload.customer else ""
        raise VoucherifyError(
            404, "not_found", "Resource not found", f"Cannot find customer with id {customer_id}"
        )
    if isinstance(outcome, AppError):
        raise outcome
    runtime: Runtime = request.app.state.runtime
    body = await run_in_threadpool(event_object, payload, event.store_id, outcome, runtime.db)
    response = JSONResponse(body, headers=headers)
    allow_origin(response, request.headers.get("origin"))
    return response


def event_object(
    payload: ClientEvent, store_id: int, result: IngestResult, db: Database
) -> dict[str, Any]:
    """The documented event object, with the customer as Cartwheel now knows it."""
    assert result.contact_id is not None and payload.customer is not None
    with db.read() as session:
        contact = contacts.read_contact(session, store_id, result.contact_id)
    return {
        "object": "event",
        "type": payload.event,
        "customer": {
            "id": str(contact.uuid),
            "name": contact.name,
            "email": contact.email,
            "source_id": payload.customer.source_id
            or (contact.externalIds[0] if contact.externalIds else None),
            "metadata": contact.customFields,
            "object": "customer",
        },
        "referral": None,
        "loyalty": None,
        "metadata": payload.metadata or {},
    }
