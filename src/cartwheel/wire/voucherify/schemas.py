"""Voucherify's request and answer shapes: msgspec Structs that decode the request, and
pydantic models that only document it (and the answer and error) in OpenAPI.

Lengths of values that land in a column come from :mod:`cartwheel.limits`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta
from pydantic import BaseModel, Field

from cartwheel.limits import (
    EMAIL_MAX,
    EVENT_NAME_MAX,
    IDENTIFIER_MAX,
    PHONE_INPUT_MAX,
    column_max,
)

_NAME_MAX = column_max("name")
_ID_MAX = IDENTIFIER_MAX
_PLACE_MAX = column_max("city")
_LINE_MAX = column_max("address1")
_ZIP_MAX = column_max("zip")
assert _PLACE_MAX == column_max("state") == column_max("country")


# -- the request (msgspec decodes) ----------------------------------------------------------


class Address(msgspec.Struct):
    city: Annotated[str, Meta(max_length=_PLACE_MAX)] | None = None
    state: Annotated[str, Meta(max_length=_PLACE_MAX)] | None = None
    line_1: Annotated[str, Meta(max_length=_LINE_MAX)] | None = None
    line_2: Annotated[str, Meta(max_length=_LINE_MAX)] | None = None
    country: Annotated[str, Meta(max_length=_PLACE_MAX)] | None = None
    postal_code: Annotated[str, Meta(max_length=_ZIP_MAX)] | None = None


class Customer(msgspec.Struct):
    id: Annotated[str, Meta(max_length=_ID_MAX)] | None = None
    source_id: Annotated[str, Meta(max_length=_ID_MAX)] | None = None
    name: Annotated[str, Meta(max_length=_NAME_MAX)] | None = None
    email: Annotated[str, Meta(max_length=EMAIL_MAX)] | None = None
    phone: Annotated[str, Meta(max_length=PHONE_INPUT_MAX)] | None = None
    description: str | None = None
    birthday: str | None = None
    birthdate: str | None = None
    address: Address | None = None
    metadata: dict[str, Any] | None = None


class Referral(msgspec.Struct):
    code: str | None = None
    referrer_id: str | None = None


class Loyalty(msgspec.Struct):
    code: str | None = None


class ClientEvent(msgspec.Struct):
    event: Annotated[str, Meta(min_length=1, max_length=EVENT_NAME_MAX)]
    customer: Customer | None = None
    referral: Referral | None = None
    loyalty: Loyalty | None = None
    metadata: dict[str, Any] | None = None


# -- the documentation (pydantic) -----------------------------------------------------------


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
        default=None, max_length=EMAIL_MAX, description="Customer's email address."
    )
    phone: str | None = Field(
        default=None,
        max_length=PHONE_INPUT_MAX,
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
        max_length=EVENT_NAME_MAX,
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
