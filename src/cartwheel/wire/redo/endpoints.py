"""Redo custom events: ``POST /stores/{storeId}/events`` and ``.../events/bulk``, run by the
ingest pipeline (:mod:`cartwheel.wire.pipeline`) with the Redo adapter.

Answers are the document's: 202 with no body for one event, 202 with per-event results for a
bulk request, and errors as RFC 7807 problem details."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response

from cartwheel.auth.cache import StoreContext
from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.exceptions import NotFound
from cartwheel.kit.openapi import json_body, schema_ref
from cartwheel.kit.routing import wire_router
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.wire.pipeline import Pipeline
from cartwheel.wire.redo.adapter import ADAPTER
from cartwheel.wire.redo.errors import PROBLEM_JSON
from cartwheel.wire.redo.schemas import (
    BULK_EXAMPLES,
    EVENT_EXAMPLES,
    RedoBulkCustomEventRequest,
    RedoBulkResponse,
    RedoCustomEventRequest,
    RedoProblem,
)

PIPELINE = Pipeline(ADAPTER)


def _problem(description: str, media_type: str = "application/json") -> dict[str, Any]:
    return {
        "description": description,
        "content": {media_type: {"schema": schema_ref(RedoProblem)}},
    }


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("Missing or invalid secret API key", PROBLEM_JSON),
    404: _problem("Store not found (or not the key's store)"),
    413: _problem("The request body exceeds 5 MB", PROBLEM_JSON),
    429: _problem(
        "Rate limit exceeded (100 requests per second per store); see `Retry-After` and "
        "`X-RateLimit-*`"
    ),
    "default": _problem("Any other error", PROBLEM_JSON),
}

_IDENTITY = """
## Identity Resolution
The API resolves customers using the following priority order:
1. `customer.id` — a Cartwheel contact's `uuid` or numeric `id` (highest priority)
2. `customer.email` — customer email address
3. `customer.phoneNumber` — customer phone number (normalized to E.164)

At least one identifier must be provided. If no matching customer is found, one will
be created automatically. If `customer.id` is provided but not found, the API falls
back to email/phone rather than returning 404.
"""

_DATES_AND_LIMITS = """
## Datetime Formatting
All datetime values must be formatted as ISO 8601 (RFC 3339) strings, e.g.,
`2026-04-02T12:00:00Z`. This applies to `eventTimestamp`, any date-valued properties in `data`,
and any date-valued `customFields`. Strings matching this format are automatically detected and
indexed as dates for segmentation.

## Limits
At most 400 properties in `data`, 100 KB per string, 5 MB per request body (413 beyond).

## Rate Limiting
This endpoint is rate-limited to 100 requests per second per store.
"""

router = wire_router(ADAPTER.render_error, tags=["Redo custom events"], responses=_ERRORS)


def _own_store(store_id: str, store: StoreContext) -> None:
    """Another store's id answers exactly like a store that does not exist."""
    if store_id != str(store.store_id):
        raise NotFound("Store not found.")


StoreIdParam = Annotated[
    str, Path(description="The store's id (the store of the secret key).", examples=["1"])
]


@router.post(
    "/stores/{storeId}/events",
    summary="Create custom event",
    operation_id="Custom event create",
    description="Create a custom event to trigger flows with merchant-defined event names and "
    "properties.\n\nCustom events allow merchants to trigger flows based on events from their "
    "own systems. Events can include custom properties that are accessible in email and SMS "
    "templates, and are persisted for segmentation and historical queries.\n"
    + _IDENTITY
    + _DATES_AND_LIMITS,
    status_code=202,
    response_class=Response,
    responses={
        202: {"description": "Event accepted and queued for processing. No response body."},
        400: _problem("Invalid request body or missing required customer identifier"),
    },
    openapi_extra=json_body(RedoCustomEventRequest, examples=EVENT_EXAMPLES),
)
async def create_custom_event(
    request: Request,
    storeId: StoreIdParam,
    store: SecretKeyStore,
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> Response:
    _own_store(storeId, store)
    return await PIPELINE.one(request, runtime, store)


@router.post(
    "/stores/{storeId}/events/bulk",
    summary="Bulk create custom events",
    operation_id="Bulk create custom events",
    description="Create multiple custom events in a single request. Accepts up to 100 events "
    "per request.\n\nEach event is validated independently, allowing partial failures — some "
    "events may be accepted while others are rejected due to validation errors. The answer is "
    "202 with per-event results when at least one event was accepted, and a 400 problem "
    "carrying the same results when none was.\n"
    "A `uniqueId` seen before (in an earlier request or earlier in the same one) is accepted "
    "and stored once.\n"
    + _IDENTITY.replace(
        "At least one identifier must be provided.",
        "At least one identifier must be provided per event.",
    )
    + _DATES_AND_LIMITS,
    status_code=202,
    response_class=Response,
    responses={
        202: {
            "description": "Bulk request accepted: the accepted events are stored; per-event "
            "results in request order.",
            "content": {"application/json": {"schema": schema_ref(RedoBulkResponse)}},
        },
        400: _problem(
            "Invalid request body (e.g., events array missing or exceeds 100 items), or no "
            "event could be accepted"
        ),
    },
    openapi_extra=json_body(RedoBulkCustomEventRequest, examples=BULK_EXAMPLES),
)
async def bulk_create_custom_events(
    request: Request,
    storeId: StoreIdParam,
    store: SecretKeyStore,
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> Response:
    _own_store(storeId, store)
    return await PIPELINE.many(request, runtime, store)
