"""Voucherify's client-side custom event: ``POST /client/v1/events``.

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

import secrets
from typing import Annotated, Any, Literal

import msgspec
from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from msgspec import Meta
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from cartwheel.auth.dependencies import ClientCredentialStore
from cartwheel.contacts import service as contacts
from cartwheel.db import Database
from cartwheel.exceptions import (
    AppError,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
    first_message,
)
from cartwheel.health import EVENTS_INGESTED
from cartwheel.identity.addresses import (
    is_valid_email,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from cartwheel.ingest.body import read_body
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, IngestResult, ProfilePatch
from cartwheel.ingest.properties import Limits, check_limits, split_properties
from cartwheel.ingest.service import ingest, limits
from cartwheel.kit import cors
from cartwheel.kit.openapi import json_body
from cartwheel.kit.routing import apply_headers, wire_router
from cartwheel.ratelimit import Quota
from cartwheel.runtime import Runtime, get_runtime

PATH = "/client/v1/events"
SOURCE = "voucherify"
ALLOWED_HEADERS = "Content-Type, X-Client-Application-Id, X-Client-Token, X-Voucherify-Channel"
EXPOSED_HEADERS = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"

# Column sizes of the contact fields these land in (models/contact.py).
_NAME_MAX = 300
_EMAIL_MAX = 320
_ID_MAX = 320
_PLACE_MAX = 200
_LINE_MAX = 500
_ZIP_MAX = 40


# -- errors ---------------------------------------------------------------------------------


class VoucherifyError(AppError):
    """An error with one of Voucherify's documented error keys."""

    def __init__(self, status: int, key: str, message: str, details: str) -> None:
        super().__init__(details)
        self.status_code = status
        self.key = key
        self.short = message


# status → (key, message) for errors raised by the shared core.
_CORE_KEYS: dict[int, tuple[str, str]] = {
    400: ("invalid_payload", "Invalid payload"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Resource not found"),
    413: ("query_too_large", "Request too large"),
    422: ("invalid_payload", "Invalid payload"),
    429: ("too_many_requests", "API limit reached"),
}


class VoucherifyErrorView(BaseModel):
    code: int = Field(description="The HTTP status code of the error.")
    key: str = Field(
        description="The kind of error: `invalid_payload`, `missing_customer`, "
        "`invalid_customer`, `unauthorized`, `forbidden`, `not_found`, `query_too_large` "
        "or `too_many_requests`."
    )
    message: str = Field(description="A short description of the error.")
    details: str = Field(description="More details about the error, often how to fix it.")
    request_id: str = Field(description="An id of this request, for troubleshooting.")


def render_voucherify(request: Request, exc: AppError) -> Response:
    status = 400 if isinstance(exc, ValidationFailed) else exc.status_code
    if isinstance(exc, VoucherifyError):
        key, message = exc.key, exc.short
    else:
        key, message = _CORE_KEYS.get(status, ("error", exc.title))
    details = first_message(exc.errors) if isinstance(exc, ValidationFailed) else exc.message
    if isinstance(exc, Unauthorized):
        details = "Missing or invalid client application id or client token."
    body = {
        "code": status,
        "key": key,
        "message": message,
        "details": details,
        "request_id": "v-" + secrets.token_hex(9),
    }
    response = apply_headers(JSONResponse(body, status_code=status), exc)
    # The origin passed its credential's check iff the request got as far as the rate limit.
    if hasattr(request.state, "quota") or isinstance(exc, RateLimited):
        _allow_origin(response, request.headers.get("origin"))
    return response


def _allow_origin(response: Response, origin: str | None) -> None:
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    response.headers["Vary"] = "Origin"


router = wire_router(render_voucherify, tags=["voucherify"])

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


# -- the request (msgspec validates; pydantic documents) ------------------------------------


class _Address(msgspec.Struct):
    city: Annotated[str, Meta(max_length=_PLACE_MAX)] | None = None
    state: Annotated[str, Meta(max_length=_PLACE_MAX)] | None = None
    line_1: Annotated[str, Meta(max_length=_LINE_MAX)] | None = None
    line_2: Annotated[str, Meta(max_length=_LINE_MAX)] | None = None
    country: Annotated[str, Meta(max_length=_PLACE_MAX)] | None = None
    postal_code: Annotated[str, Meta(max_length=_ZIP_MAX)] | None = None


class _Customer(msgspec.Struct):
    id: Annotated[str, Meta(max_length=_ID_MAX)] | None = None
    source_id: Annotated[str, Meta(max_length=_ID_MAX)] | None = None
    name: Annotated[str, Meta(max_length=_NAME_MAX)] | None = None
    email: Annotated[str, Meta(max_length=_EMAIL_MAX)] | None = None
    phone: Annotated[str, Meta(max_length=64)] | None = None
    description: str | None = None
    birthday: str | None = None
    birthdate: str | None = None
    address: _Address | None = None
    metadata: dict[str, Any] | None = None


class _Referral(msgspec.Struct):
    code: str | None = None
    referrer_id: str | None = None


class _Loyalty(msgspec.Struct):
    code: str | None = None


class _Event(msgspec.Struct):
    event: Annotated[str, Meta(min_length=1, max_length=300)]
    customer: _Customer | None = None
    referral: _Referral | None = None
    loyalty: _Loyalty | None = None
    metadata: dict[str, Any] | None = None


class CustomerAddress(BaseModel):
    city: str | None = Field(default=None, max_length=_PLACE_MAX, description="City.")
    state: str | None = Field(default=None, max_length=_PLACE_MAX, description="State.")
    line_1: str | None = Field(default=None, max_length=_LINE_MAX, description="First line.")
    line_2: str | None = Field(default=None, max_length=_LINE_MAX, description="Second line.")
    country: str | None = Field(default=None, max_length=_PLACE_MAX, description="Country.")
    postal_code: str | None = Field(default=None, max_length=_ZIP_MAX, description="Postal code.")


class ClientEventCustomer(BaseModel):
    """Customer's information. At least one of `id`, `source_id` or `email` (or a valid
    `phone`) is required; they are tried in that order."""

    id: str | None = Field(
        default=None,
        max_length=_ID_MAX,
        description="The id of an existing customer (the `customer.id` of an earlier answer). "
        "If you also pass it, `source_id` is not used to find the customer.",
    )
    source_id: str | None = Field(
        default=None,
        max_length=_ID_MAX,
        description="A unique identifier of the customer in your system (a customer id or "
        "email from a CRM, database or third-party service).",
    )
    name: str | None = Field(
        default=None, max_length=_NAME_MAX, description="Customer's first and last name."
    )
    email: str | None = Field(
        default=None, max_length=_EMAIL_MAX, description="Customer's email address."
    )
    phone: str | None = Field(
        default=None,
        max_length=64,
        description="Customer's phone number (used to find the customer when it is valid).",
    )
    description: str | None = Field(default=None, description="Accepted; not stored.")
    birthday: str | None = Field(default=None, description="Deprecated; accepted, not stored.")
    birthdate: str | None = Field(default=None, description="Accepted; not stored.")
    address: CustomerAddress | None = Field(default=None, description="Customer's address.")
    metadata: dict[str, Any] | None = Field(
        default=None, description="Custom key/value pairs, saved as the customer's custom fields."
    )


class ClientEventReferral(BaseModel):
    code: str | None = Field(
        default=None, description="A code through which a new visitor has been referred."
    )
    referrer_id: str | None = Field(
        default=None, description="Unique id of the referring person; optional with `code`."
    )


class ClientEventLoyalty(BaseModel):
    code: str | None = Field(
        default=None, description="Code of the loyalty card the event is attributed to."
    )


class ClientEventBody(BaseModel):
    """Request body schema for POST `/client/v1/events`."""

    event: str = Field(
        min_length=1,
        max_length=300,
        description="Event name, as defined in the event schema of your project.",
    )
    customer: ClientEventCustomer = Field(description="Customer's information.")
    referral: ClientEventReferral | None = Field(
        default=None,
        description="The referral code, when the event is a referral program's conversion "
        "event. Stored with the event.",
    )
    loyalty: ClientEventLoyalty | None = Field(
        default=None,
        description="The loyalty card the event is attributed to. Stored with the event.",
    )
    metadata: dict[str, Any] | None = Field(
        default=None,
        description="Custom attributes of the event: top-level scalars become segmentable "
        "event properties; nested values are stored whole.",
    )


class SimpleCustomer(BaseModel):
    """A customer object with the limited properties used in event tracking."""

    id: str = Field(description="The customer's id (Cartwheel's public contact uuid).")
    name: str | None = Field(description="Customer's first and last name.")
    email: str | None = Field(description="Customer's email address.")
    source_id: str | None = Field(description="The customer's id in your system.")
    metadata: dict[str, Any] = Field(description="The customer's custom attributes.")
    object: Literal["customer"] = Field(description="Always `customer`.")


class ClientEventResponse(BaseModel):
    """Response body schema for POST `/client/v1/events`."""

    object: Literal["event"] = Field(description="The object represented is an `event`.")
    type: str = Field(description="The event name.")
    customer: SimpleCustomer = Field(description="The customer the event was recorded for.")
    referral: None = Field(description="A null referral object.")
    loyalty: None = Field(description="A null loyalty object.")
    metadata: dict[str, Any] = Field(description="The event's metadata, as sent.")


#: The document's request example.
DOCUMENT_EXAMPLE: dict[str, Any] = {
    "event": "user_subscribed",
    "customer": {"source_id": "source_customer_event"},
    "referral": {"code": "46jL0kYI", "referrer_id": "cust_Vzck5i8U3OhcEUFY6MKhN9Rv"},
    "metadata": {"login": "bob", "pricing_plan": "PP1", "volume_number": 4},
}

EXAMPLES = {
    "document": {"summary": "The document's example", "value": DOCUMENT_EXAMPLE},
    "customer details": {
        "summary": "A customer with details",
        "value": {
            "event": "cart_abandoned",
            "customer": {
                "source_id": "source_customer_event",
                "name": "John Doe",
                "email": "john@voucherify.io",
                "metadata": {"prop": "value"},
            },
        },
    },
}


# -- decoding and mapping -------------------------------------------------------------------


def decode(body: bytes) -> _Event:
    if not body.strip():
        raise VoucherifyError(400, "invalid_payload", "Invalid payload", "Request body is empty.")
    try:
        payload = msgspec.json.decode(body, type=_Event)
    except msgspec.ValidationError as exc:
        raise VoucherifyError(400, "invalid_payload", "Invalid payload", _details(exc)) from None
    except msgspec.DecodeError:
        raise VoucherifyError(
            400, "invalid_payload", "Invalid payload", "Request body is not valid JSON."
        ) from None
    if payload.customer is None:
        raise VoucherifyError(
            400, "missing_customer", "Missing customer", "Property .customer is required."
        )
    return payload


def _details(exc: msgspec.ValidationError) -> str:
    """msgspec's message in Voucherify's words: ``Property .customer.email must be …``."""
    text = str(exc)
    message, _, where = text.partition(" - at `$")
    path = where.rstrip("`").replace("[", ".").replace("]", "")
    if message.startswith("Object missing required field `"):
        field = message.split("`")[1]
        return f"Property {path}.{field} is required."
    prop = f"Property {path}" if path else "Request body"
    if message.startswith("Expected `"):
        expected = message.split("`")[1]
        bound = message.rsplit(" ", 1)[-1]
        unit = "character" if bound == "1" else "characters"
        if " of length >= " in message:
            return f"{prop} must be at least {bound} {unit} long."
        if " of length <= " in message:
            return f"{prop} must be at most {bound} {unit} long."
        kinds = [_TYPES.get(k.strip(), k.strip()) for k in expected.split("|")]
        return f"{prop} must be {' or '.join(k for k in kinds if k != 'null')}."
    return f"{prop} is invalid: {message}."


_TYPES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def to_canonical(store_id: int, payload: _Event, lim: Limits) -> CanonicalEvent:
    customer = payload.customer
    assert customer is not None  # decode() refused a request without one
    for data in (payload.metadata, customer.metadata):
        if data:
            check_limits(data, lim)
    # Every string of the request, at any depth: length and NUL characters.
    check_limits(msgspec.to_builtins(payload), lim, path="body")
    hints = IdentityHints()
    # Voucherify's order: its own customer id, then the source id (ignored for lookup when
    # an id is given, but still saved on the customer), then email; phone last.
    hints.add("contact_uuid", customer.id)
    hints.add("external", normalize_external_id(customer.source_id))
    if customer.email is not None:
        email = normalize_email(customer.email)
        if email is None or not is_valid_email(email):
            raise VoucherifyError(
                400,
                "invalid_customer",
                "Invalid customer",
                "Property .customer.email must be a valid email address.",
            )
        hints.add("email", email)
    # Voucherify accepts any phone text; only a possible number can identify someone.
    hints.add("phone", normalize_phone(customer.phone))
    if not hints.identifiers:
        raise VoucherifyError(
            400,
            "invalid_customer",
            "Invalid customer",
            "Customer must have an id, a source_id or an email.",
        )
    extra: dict[str, Any] = {}
    if payload.referral is not None:
        extra["$referral"] = msgspec.to_builtins(payload.referral)
    if payload.loyalty is not None:
        extra["$loyalty"] = msgspec.to_builtins(payload.loyalty)
    split = split_properties(payload.metadata or {}, extra)
    return CanonicalEvent(
        store_id=store_id,
        name=payload.event,
        identity=hints,
        source=SOURCE,
        profile=_profile(customer),
        properties=split.properties,
        property_types=split.property_types,
        extra=split.extra,
    )


def _profile(customer: _Customer) -> ProfilePatch:
    fields: dict[str, Any] = {"name": customer.name}
    if customer.address is not None:
        address = customer.address
        fields |= {
            "address1": address.line_1,
            "address2": address.line_2,
            "city": address.city,
            "state": address.state,
            "zip": address.postal_code,
            "country": address.country,
        }
    return ProfilePatch(
        fields={k: v for k, v in fields.items() if v is not None},
        custom_fields=dict(customer.metadata or {}),
        source=SOURCE,
    )


def answer(payload: _Event, store_id: int, result: IngestResult, db: Database) -> dict[str, Any]:
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


# -- endpoints ------------------------------------------------------------------------------

_INGESTED = EVENTS_INGESTED.labels(wire="voucherify")


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
    payload = decode(await read_body(request, runtime.settings.max_body_bytes))
    event = to_canonical(store.store_id, payload, limits(runtime))
    (outcome,) = await ingest(runtime, [event])
    if isinstance(outcome, NotFound):
        raise VoucherifyError(
            404,
            "not_found",
            "Resource not found",
            f"Cannot find customer with id {payload.customer.id if payload.customer else ''}",
        )
    if isinstance(outcome, AppError):
        raise outcome
    _INGESTED.inc()
    body = await run_in_threadpool(answer, payload, store.store_id, outcome, runtime.db)
    response = JSONResponse(body)
    quota: Quota | None = getattr(request.state, "quota", None)
    if quota is not None:
        response.headers.update(quota.headers())
    _allow_origin(response, request.headers.get("origin"))
    return response


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
