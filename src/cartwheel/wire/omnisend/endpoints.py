"""Omnisend Events API: ``POST /v5/events``.

Omnisend answers an accepted event with 202 and no body, and errors as
``{"error": ..., "statusCode": ...}`` plus ``fields`` (path → messages) for invalid fields."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from cartwheel.auth.dependencies import SecretKeyOrApiKeyStore
from cartwheel.exceptions import AppError, ValidationFailed
from cartwheel.health import EVENTS_INGESTED
from cartwheel.ingest.body import decode_json, read_body
from cartwheel.ingest.service import ingest, limits
from cartwheel.kit.openapi import json_body
from cartwheel.kit.routing import apply_headers, wire_router
from cartwheel.ratelimit import Quota
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.wire.omnisend import parse
from cartwheel.wire.omnisend.schemas import EXAMPLES, OmnisendError, OmnisendEventRequest


def render_error(_request: Request, exc: AppError) -> Response:
    body: dict[str, Any] = {"error": exc.message, "statusCode": exc.status_code}
    if isinstance(exc, ValidationFailed):
        body["fields"] = exc.errors
    return apply_headers(JSONResponse(body, status_code=exc.status_code), exc)


def _error(description: str) -> dict[str, Any]:
    return {"model": OmnisendError, "description": description}


router = wire_router(
    render_error,
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
    body = decode_json(await read_body(request, runtime.settings.max_body_bytes))
    event = parse.parse_event(body, store.store_id, limits(runtime))
    (result,) = await ingest(runtime, [event])
    if isinstance(result, AppError):
        raise result
    if not result.duplicate:
        EVENTS_INGESTED.labels(wire="omnisend").inc()
    quota: Quota | None = getattr(request.state, "quota", None)
    return Response(status_code=202, headers=quota.headers() if quota is not None else None)
