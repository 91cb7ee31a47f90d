"""``POST /v1/events`` and ``POST /v1/events/batch``: the hot path.

Both run the ingest pipeline (:mod:`cartwheel.wire.pipeline`) with the native adapter. The
body is decoded by msgspec straight into validated Structs; no pydantic model parses it (the
pydantic models in :mod:`.schemas` only document it). The request is answered only after the
ingest writer committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response

from cartwheel.auth.cache import StoreContext
from cartwheel.auth.dependencies import SecretKeyStore, bearer_store
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.fastlane import fast_route
from cartwheel.kit.openapi import json_body
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.wire.native.adapter import ADAPTER
from cartwheel.wire.native.schemas import (
    BATCH_EXAMPLES,
    EVENT_EXAMPLES,
    BatchAcceptedView,
    EventAcceptedView,
    NativeBatchBody,
    NativeEventBody,
)
from cartwheel.wire.pipeline import Pipeline

PIPELINE = Pipeline(ADAPTER)

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
    return await PIPELINE.one(request, runtime, store)


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
    return await PIPELINE.many(request, runtime, store)


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
    fast_route("/v1/events", _fast_event, ADAPTER.render_error),
    fast_route("/v1/events/batch", _fast_batch, ADAPTER.render_error),
]
