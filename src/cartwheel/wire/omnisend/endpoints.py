"""Omnisend Events API: ``POST /v5/events``, run by the ingest pipeline
(:mod:`cartwheel.wire.pipeline`) with the Omnisend adapter.

Omnisend answers an accepted event with 202 and no body, and errors as
``{"error": ..., "statusCode": ...}`` plus ``fields`` (path → messages) for invalid fields."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response

from cartwheel.auth.dependencies import SecretKeyOrApiKeyStore
from cartwheel.kit.openapi import json_body
from cartwheel.kit.routing import wire_router
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.wire.omnisend.adapter import ADAPTER
from cartwheel.wire.omnisend.schemas import EXAMPLES, OmnisendError, OmnisendEventRequest
from cartwheel.wire.pipeline import Pipeline

PIPELINE = Pipeline(ADAPTER)


def _error(description: str) -> dict[str, Any]:
    return {"model": OmnisendError, "description": description}


router = wire_router(
    ADAPTER.render_error,
    tags=["Omnisend events"],
    responses={
        400: _error("Invalid event: `error` names the first problem, `fields` all of them"),
        401: _error("Missing or invalid API key"),
        413: _error("The request body exceeds 5 MB"),
        429: _error("Rate limit exceeded; see `Retry-After` and `X-RateLimit-*`"),
    },
)


@router.post(
    "/v5/events",
    summary="Send customer event",
    description="Send a customer event, authenticated with the store's secret key as "
    "`Authorization: Bearer <key>` or `X-API-KEY: <key>`.\n\n"
    "`paid for order` (event version `v2`, origin `api`) is an order lifecycle event: its "
    "properties are checked against the document's types and stored as the order record, "
    "which unlocks the order confirmation workflow and contact segmentation. Any other event "
    "name is a custom event whose properties are stored as sent (top-level scalars "
    "segmentable, ISO 8601 strings as dates).\n\n"
    "The contact is resolved by `contact.id` (the store's own id), then `email`, then `phone`, "
    "and created when none matches. An `eventID` sent again with the same `eventTime` is "
    "stored once.",
    status_code=202,
    response_class=Response,
    responses={202: {"description": "Accepted. No response body."}},
    openapi_extra=json_body(OmnisendEventRequest, examples=EXAMPLES),
)
async def send_event(
    request: Request,
    store: SecretKeyOrApiKeyStore,
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> Response:
    return await PIPELINE.one(request, runtime, store)
