"""The tracking spec's endpoints, run by the ingest pipeline (:mod:`cartwheel.wire.pipeline`)
with the tracking adapter, mounted where the spec's libraries send with only their ``host``
(or ``apiHost``) setting pointed at Cartwheel:

* ``POST /v1/batch`` (the server libraries; ``/v1/import`` is its other name, ``/v1/b`` the
  browser library's batching form), 500 KB at most;
* ``POST /v1/track``, ``/v1/identify``, ``/v1/page``, ``/v1/screen``, ``/v1/group``,
  ``/v1/alias`` and the browser library's ``/v1/t``, ``/v1/i``, ``/v1/p``, ``/v1/s``,
  ``/v1/g``, ``/v1/a`` (``text/plain`` bodies), 32 KB at most.

Authenticated by the store's write key: HTTP Basic (the key as user name, no password) or
``writeKey`` in the body. Gzip bodies are inflated by the core (bounded). Browser calls get
``Access-Control-Allow-Origin`` and their preflights are answered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from cartwheel.auth.dependencies import write_key_basic, write_key_store
from cartwheel.kit import cors
from cartwheel.kit.openapi import json_body
from cartwheel.kit.routing import wire_router
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.wire.pipeline import Pipeline
from cartwheel.wire.segment import decode as decoding
from cartwheel.wire.segment.adapter import ADAPTER, CALL_ADAPTERS
from cartwheel.wire.segment.schemas import (
    BATCH_EXAMPLE,
    CALL_EXAMPLES,
    SegmentBatch,
    SegmentError,
    SegmentMessage,
    SegmentSuccess,
)

BATCH = Pipeline(ADAPTER, body_limit=decoding.MAX_BATCH_BYTES)
#: The format's pipeline (the batch's); single calls run one per call type, below.
PIPELINE = BATCH
CALLS = {
    kind: Pipeline(adapter, body_limit=decoding.MAX_MESSAGE_BYTES)
    for kind, adapter in CALL_ADAPTERS.items()
}

#: Each call's paths: the documented one first, then the browser library's short form.
CALL_PATHS: dict[str, tuple[str, ...]] = {
    kind: (f"/v1/{kind}", f"/v1/{kind[0]}") for kind in CALL_ADAPTERS
}
BATCH_PATHS = ("/v1/batch", "/v1/import", "/v1/b")
ALLOWED_HEADERS = "Content-Type, Authorization, Content-Encoding"

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
WriteKey = Annotated[str | None, Depends(write_key_basic)]


def _error(description: str) -> dict[str, Any]:
    return {"model": SegmentError, "description": description}


router = wire_router(
    ADAPTER.render_error,
    tags=["Tracking (Segment spec)"],
    responses={
        400: _error("Invalid JSON or message; for a batch, every message was refused"),
        401: _error("Missing or invalid write key"),
        413: _error("A message over 32 KB or a batch over 500 KB (after inflating gzip)"),
        415: _error("A Content-Encoding other than gzip"),
        429: _error("Rate limit exceeded; see `Retry-After` and `X-RateLimit-*`"),
    },
)


async def _receive(
    pipeline: Pipeline[Any], request: Request, runtime: Runtime, key: str | None, batch: bool
) -> Response:
    body = None
    if key is None:  # the browser library's form: the write key is inside the body
        body = await pipeline.read(request, runtime)
        key = decoding.write_key(body)
    store = await write_key_store(request, runtime, key)
    if batch:
        return await pipeline.many(request, runtime, store, body)
    return await pipeline.one(request, runtime, store, body)


_OK: dict[int | str, dict[str, Any]] = {200: {"description": "Stored durably before this answer."}}

Endpoint = Callable[..., Awaitable[Response]]


def _batch_endpoint() -> Endpoint:
    async def send_batch(request: Request, runtime: RuntimeDep, key: WriteKey) -> Response:
        """Send many calls at once, as the server libraries do. Each message is checked and
        stored on its own: the answer lists refused ones under `rejected` (a 400 when no
        message was stored). A `messageId` seen before is stored once."""
        return await _receive(BATCH, request, runtime, key, batch=True)

    return send_batch


def _call_endpoint(kind: str) -> Endpoint:
    pipeline = CALLS[kind]

    async def send_call(request: Request, runtime: RuntimeDep, key: WriteKey) -> Response:
        return await _receive(pipeline, request, runtime, key, batch=False)

    send_call.__name__ = f"send_{kind}"
    send_call.__doc__ = (
        f"Send one `{kind}` call (the message's `type` is this path's). See `POST /v1/batch` "
        "for identity, time and e-commerce rules."
    )
    return send_call


for _index, _path in enumerate(BATCH_PATHS):
    router.add_api_route(
        _path,
        _batch_endpoint(),
        methods=["POST"],
        summary="Send a batch of calls" if _index == 0 else f"Send a batch of calls ({_path})",
        response_model=SegmentSuccess,
        responses=_OK,
        include_in_schema=_index == 0,
        openapi_extra=json_body(
            SegmentBatch, examples={"batch": {"summary": "Three calls", "value": BATCH_EXAMPLE}}
        ),
    )

for _kind, _paths in CALL_PATHS.items():
    for _index, _path in enumerate(_paths):
        router.add_api_route(
            _path,
            _call_endpoint(_kind),
            methods=["POST"],
            summary=f"Send a {_kind} call",
            response_model=SegmentSuccess,
            responses=_OK,
            include_in_schema=_index == 0,  # the browser forms are the same operation
            openapi_extra=json_body(
                SegmentMessage,
                examples={_kind: {"summary": f"A {_kind} call", "value": CALL_EXAMPLES[_kind]}},
            ),
        )


async def preflight(
    origin: Annotated[
        str | None, Header(description="The page's origin, e.g. `https://shop.example.com`.")
    ] = None,
    access_control_request_method: Annotated[
        str | None, Header(description="The method of the real request: `POST`.")
    ] = None,
) -> Response:
    """Answer a browser's CORS preflight for any well-formed http(s) origin: a write key is
    public in the browser, so every origin may send with it."""
    return cors.preflight(origin, access_control_request_method, ALLOWED_HEADERS)


for _path in (*BATCH_PATHS, *(p for paths in CALL_PATHS.values() for p in paths)):
    router.add_api_route(
        _path,
        preflight,
        methods=["OPTIONS"],
        status_code=204,
        response_class=Response,
        summary="CORS preflight",
        include_in_schema=False,
    )
