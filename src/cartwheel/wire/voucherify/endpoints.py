"""Voucherify's client-side custom event: ``POST /client/v1/events``, run by the ingest
pipeline (:mod:`cartwheel.wire.pipeline`) with the Voucherify adapter.

A browser (or the Voucherify JS client SDK) sends it with the store's *public* client
credential: ``X-Client-Application-Id`` + ``X-Client-Token`` and the page's ``origin``, which
must be one of the credential's allowed origins. That credential can send events and nothing
else. Answers are Voucherify's: 200 with an ``event`` object, and errors as
``{"code", "key", "message", "details", "request_id"}`` with Voucherify's error keys.

CORS. A preflight (``OPTIONS``) carries no credentials, so it cannot tell which store, and
hence which allowed origins, the real request will use. Refusing origins that no store allows
would answer a question nobody should be able to ask: "does any store of this installation
allow origin X?" — existence leaking across tenants. So the preflight is answered for every
well-formed http(s) origin, with the allowed method and headers and nothing else, and it
grants nothing: the real request is authenticated and its origin checked against *its*
credential, and only responses to an allowed origin carry ``Access-Control-Allow-Origin``
(so a page on any other origin cannot read them). Preflights without a usable ``Origin`` or
for a method other than POST are refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from cartwheel.auth.dependencies import ClientCredentialStore
from cartwheel.kit import cors
from cartwheel.kit.openapi import json_body
from cartwheel.kit.routing import wire_router
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.wire.pipeline import Pipeline
from cartwheel.wire.voucherify.adapter import ADAPTER
from cartwheel.wire.voucherify.errors import ALLOWED_HEADERS
from cartwheel.wire.voucherify.schemas import (
    EXAMPLES,
    ClientEventBody,
    ClientEventResponse,
    VoucherifyErrorView,
)

PATH = "/client/v1/events"
PIPELINE = Pipeline(ADAPTER)

router = wire_router(ADAPTER.render_error, tags=["voucherify"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": VoucherifyErrorView,
        "description": "Invalid payload (`details` names the property), missing or invalid "
        "customer, payload limits",
    },
    401: {"model": VoucherifyErrorView, "description": "Missing or invalid client credential"},
    403: {"model": VoucherifyErrorView, "description": "Origin not allowed for this credential"},
    404: {"model": VoucherifyErrorView, "description": "`customer.id` names no customer"},
    413: {"model": VoucherifyErrorView, "description": "Request body too large"},
    429: {"model": VoucherifyErrorView, "description": "Rate limit exceeded"},
    # Documenting "default" also keeps FastAPI from listing its own 422 shape, never sent here.
    "default": {"model": VoucherifyErrorView, "description": "Any other error"},
}


@router.post(
    PATH,
    response_model=ClientEventResponse,
    responses={200: {"description": "The event was received and stored."}, **_ERRORS},
    openapi_extra=json_body(ClientEventBody, examples=EXAMPLES),
    summary="Track Custom Event (client-side)",
)
async def track_custom_event(
    request: Request,
    store: ClientCredentialStore,
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> Response:
    """Record a custom event sent from a browser with the store's public client credential
    (`X-Client-Application-Id`, `X-Client-Token`) from one of its allowed origins.

    The customer is found by `id`, then `source_id`, then `email` (and created when none
    matches); `metadata` becomes the event's properties and the customer's `metadata` its
    custom fields."""
    return await PIPELINE.one(request, runtime, store)


@router.options(
    PATH,
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "The CORS preflight is answered (see the description)."},
        403: {"model": VoucherifyErrorView, "description": "No usable `Origin`, or not POST."},
        "default": {"model": VoucherifyErrorView, "description": "Any other error"},
    },
    summary="CORS preflight",
)
async def preflight(
    origin: Annotated[
        str | None, Header(description="The page's origin, e.g. `https://shop.example.com`.")
    ] = None,
    access_control_request_method: Annotated[
        str | None, Header(description="The method of the real request: `POST`.")
    ] = None,
) -> Response:
    """Answer a browser's CORS preflight for any well-formed http(s) origin. The preflight
    carries no credential, so it reveals nothing: which origins a credential allows is
    enforced on the real request, whose answer carries `Access-Control-Allow-Origin` only
    for an allowed origin."""
    return cors.preflight(origin, access_control_request_method, ALLOWED_HEADERS)
