"""``POST /v1/events`` and ``POST /v1/events/batch``: the hot path.

The body is read raw and decoded by msgspec straight into validated Structs; no pydantic
model parses it (the pydantic models in :mod:`.schemas` only document it). Responses are
encoded by msgspec too. The request is answered only after the ingest writer committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from fastapi import Depends, Request, Response

from cartwheel.auth.cache import StoreContext
from cartwheel.auth.dependencies import SecretKeyStore, bearer_store
from cartwheel.exceptions import AppError
from cartwheel.health import EVENTS_INGESTED
from cartwheel.ingest.body import read_body
from cartwheel.ingest.canonical import CanonicalEvent
from cartwheel.ingest.service import ingest, limits
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router, render_native
from cartwheel.kit.fastlane import fast_route
from cartwheel.kit.openapi import json_body
from cartwheel.ratelimit import Quota
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.wire.native import mapping
from cartwheel.wire.native.schemas import (
    BATCH_EXAMPLES,
    EVENT_EXAMPLES,
    BatchAccepted,
    BatchAcceptedView,
    BatchItem,
    EventAcceptedView,
    NativeBatchBody,
    NativeEventBody,
)

router = native_router(
    prefix="/v1",
    tags=["events"],
    responses={
        **ERROR_RESPONSES,
        413: {"model": ErrorResponse, "description": "Request body too large"},
    },
)

_ACCEPTED = {202: {"description": "Accepted: stored durably before this answer."}}

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

_encode = msgspec.json.Encoder().encode
_INGESTED = EVENTS_INGESTED.labels(wire="native")


@router.post(
    "/events",
    status_code=202,
    response_model=EventAcceptedView,
    responses=_ACCEPTED,
    openapi_extra=json_body(NativeEventBody, examples=EVENT_EXAMPLES),
)
async def create_event(request: Request, store: SecretKeyStore) -> Response:
    """Record one customer event.

    The contact is resolved by `contact.id`, `uuid`, `externalId`, `email`, then `phone`
    (created when none matches) and the event is stored durably before the 202 answer."""
    return await _record_event(request, await get_runtime(request), store)


async def _record_event(request: Request, runtime: Runtime, store: StoreContext) -> Response:
    body = await read_body(request, runtime.settings.max_body_bytes)
    event = mapping.to_canonical(store.store_id, mapping.decode_event(body), limits(runtime))
    (outcome,) = await ingest(runtime, [event])
    if isinstance(outcome, AppError):
        raise outcome
    if outcome.event_id is not None and not outcome.duplicate:
        _INGESTED.inc()
    return _json(mapping.accepted(outcome), request)


@router.post(
    "/events/batch",
    status_code=202,
    response_model=BatchAcceptedView,
    responses={202: {"description": "Accepted: per-event results; accepted events are stored."}},
    openapi_extra=json_body(NativeBatchBody, examples=BATCH_EXAMPLES),
)
async def create_events(request: Request, store: SecretKeyStore, runtime: RuntimeDep) -> Response:
    """Record up to 100 events in one request.

    Each event is validated and stored on its own: the answer lists, in request order, the
    accepted events (as `POST /v1/events` answers them) and the rejected ones (with their
    index, status and message). Valid events are stored even if others are rejected."""
    return await _record_batch(request, runtime, store)


async def _record_batch(request: Request, runtime: Runtime, store: StoreContext) -> Response:
    settings = runtime.settings
    raw_events = mapping.decode_batch(
        await read_body(request, settings.max_body_bytes), settings.max_batch_events
    )
    lim = limits(runtime)
    items: list[BatchItem | None] = []
    events: list[CanonicalEvent] = []
    for index, raw in enumerate(raw_events):
        try:
            events.append(
                mapping.to_canonical(store.store_id, mapping.decode_event(bytes(raw)), lim)
            )
        except AppError as exc:
            items.append(mapping.rejected_item(index, exc))
        else:
            items.append(None)  # filled in from the ingest outcome below
    outcomes = await ingest(runtime, events)
    stored = sum(
        1
        for o in outcomes
        if not isinstance(o, AppError) and o.event_id is not None and not o.duplicate
    )
    if stored:
        _INGESTED.inc(stored)
    pending = iter(outcomes)
    results = [
        item if item is not None else mapping.batch_item(index, next(pending))
        for index, item in enumerate(items)
    ]
    accepted = sum(1 for item in results if item.accepted)
    return _json(BatchAccepted(accepted, len(results) - accepted, results), request)


def _json(content: Any, request: Request) -> Response:
    quota: Quota | None = getattr(request.state, "quota", None)
    return Response(
        _encode(content),
        status_code=202,
        media_type="application/json",
        headers=quota.headers() if quota is not None else None,
    )


Recorder = Callable[[Request, Runtime, StoreContext], Awaitable[Response]]


async def _fast(request: Request, record: Recorder) -> Response:
    runtime = await get_runtime(request)
    return await record(request, runtime, await bearer_store(request, runtime))


async def _fast_event(request: Request) -> Response:
    return await _fast(request, _record_event)


async def _fast_batch(request: Request) -> Response:
    return await _fast(request, _record_batch)


#: The routes that serve these endpoints (see cartwheel.kit.fastlane).
FAST_ROUTES = [
    fast_route("/v1/events", _fast_event, render_native),
    fast_route("/v1/events/batch", _fast_batch, render_native),
]
