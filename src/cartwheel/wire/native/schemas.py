"""The native event schema, twice: msgspec Structs that decode and validate the request on
the hot path, and parallel pydantic models that exist only to document it in OpenAPI.

Keep the two in sync: ``tests/wire/test_native_schema.py`` checks that the documented field
names equal the Structs' wire names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta
from pydantic import BaseModel, ConfigDict, Field

from cartwheel import limits
from cartwheel.ingest.entities import (
    ENTITY_CATEGORIES,
    CartEntity,
    CustomerEntity,
    OrderEntity,
    ProductEntity,
    SubscriptionEntity,
)
from cartwheel.limits import (
    CONTACT_ID_MAX,
    DEDUP_KEY_MAX,
    EMAIL_MAX,
    EVENT_NAME_MAX,
    IDENTIFIER_MAX,
    PHONE_INPUT_MAX,
    SOURCE_MAX,
    column_max,
)

# Column sizes of the tables these values land in (cartwheel.limits reads them from the
# tables): a longer value must be a 422, never a database error.
NAME_MAX = EVENT_NAME_MAX
ACTION_MAX = limits.ACTION_MAX
EXTERNAL_ID_MAX = IDENTIFIER_MAX
PERSON_NAME_MAX = column_max("first_name")
FULL_NAME_MAX = column_max("name")
PHONE_MAX = PHONE_INPUT_MAX
assert limits.CATEGORY_MAX == ACTION_MAX and column_max("last_name") == PERSON_NAME_MAX

#: The canonical record shape a lifecycle event's ``entity`` is validated against.
ENTITY_TYPES: dict[str, Any] = {
    "order": OrderEntity,
    "product": ProductEntity,
    "cart": CartEntity,
    "subscription": SubscriptionEntity,
    "customer": CustomerEntity,
    "user": CustomerEntity,
}
assert set(ENTITY_TYPES) == set(ENTITY_CATEGORIES)


# -- the wire (msgspec) ---------------------------------------------------------------------


class NativeContact(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    id: Annotated[int, Meta(ge=1, le=CONTACT_ID_MAX)] | None = None
    uuid: UUID | None = None
    external_id: Annotated[str, Meta(min_length=1, max_length=EXTERNAL_ID_MAX)] | int | None = None
    email: Annotated[str, Meta(min_length=1, max_length=EMAIL_MAX)] | None = None
    phone: Annotated[str, Meta(min_length=1, max_length=PHONE_MAX)] | None = None
    first_name: Annotated[str, Meta(max_length=PERSON_NAME_MAX)] | None = None
    last_name: Annotated[str, Meta(max_length=PERSON_NAME_MAX)] | None = None
    name: Annotated[str, Meta(max_length=FULL_NAME_MAX)] | None = None
    custom_fields: dict[str, Any] | None = None


class NativeEvent(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=NAME_MAX)]
    contact: NativeContact
    occurred_at: datetime | None = None
    source: Annotated[str, Meta(min_length=1, max_length=SOURCE_MAX)] | None = None
    properties: dict[str, Any] | None = None
    value: float | None = None
    currency: Annotated[str, Meta(pattern="^[A-Za-z]{3}$")] | None = None
    dedup_key: Annotated[str, Meta(min_length=1, max_length=DEDUP_KEY_MAX)] | None = None
    silent: bool = False
    test: bool = False
    category: Annotated[str, Meta(min_length=1, max_length=ACTION_MAX)] | None = None
    action: Annotated[str, Meta(min_length=1, max_length=ACTION_MAX)] | None = None
    entity: dict[str, Any] | None = None


class NativeBatch(msgspec.Struct, forbid_unknown_fields=True):
    # Each event stays raw so one invalid event is rejected alone.
    events: list[msgspec.Raw]


class EventAccepted(msgspec.Struct, rename="camel"):
    id: str | None
    contact_id: int | None
    contact_uuid: str | None
    received_at: datetime
    duplicate: bool


class BatchItem(msgspec.Struct, rename="camel", omit_defaults=True):
    index: int
    accepted: bool
    id: str | None = None
    contact_id: int | None = None
    contact_uuid: str | None = None
    received_at: datetime | None = None
    duplicate: bool | None = None
    status: int | None = None
    message: str | None = None
    errors: dict[str, list[str]] | None = None


class BatchAccepted(msgspec.Struct):
    accepted: int
    rejected: int
    results: list[BatchItem]


# -- the documentation (pydantic) -----------------------------------------------------------


def _inline_refs(schema: Any, definitions: dict[str, Any]) -> Any:
    """msgspec's schema with its ``$defs`` references inlined (OpenAPI cannot see $defs)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline_refs(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inline_refs(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inline_refs(item, definitions) for item in schema]
    return schema


def _entity_schemas() -> list[dict[str, Any]]:
    out = []
    for category, kind in ENTITY_TYPES.items():
        schema = msgspec.json.schema(kind)
        inlined = _inline_refs(schema, schema.get("$defs", {}))
        inlined.pop("$defs", None)
        inlined["title"] = f"{category} record"
        out.append(inlined)
    return out


class NativeContactBody(BaseModel):
    """Who the event is about. At least one of `id`, `uuid`, `externalId`, `email` or
    `phone` is required; they are tried in that order and the first that names a known
    contact wins. A contact is created when none matches (unless only `id`/`uuid` were
    given). The other identifiers and the profile fields are then saved on that contact."""

    model_config = ConfigDict(extra="forbid")

    id: int | None = Field(
        default=None, ge=1, le=CONTACT_ID_MAX, description="Cartwheel's contact id."
    )
    uuid: UUID | None = Field(
        default=None, description="Cartwheel's public contact uuid (stable across merges)."
    )
    externalId: Annotated[str, Field(min_length=1, max_length=EXTERNAL_ID_MAX)] | int | None = (
        Field(default=None, description="The store's own customer id (numbers are cast).")
    )
    email: str | None = Field(
        default=None,
        min_length=1,
        max_length=EMAIL_MAX,
        description="Email address (compared case-insensitively).",
    )
    phone: str | None = Field(
        default=None,
        min_length=1,
        max_length=PHONE_MAX,
        description="Phone number, ideally E.164 (`+15551234567`); US numbers may omit `+1`.",
    )
    firstName: str | None = Field(
        default=None, max_length=PERSON_NAME_MAX, description="First name."
    )
    lastName: str | None = Field(default=None, max_length=PERSON_NAME_MAX, description="Last name.")
    name: str | None = Field(default=None, max_length=FULL_NAME_MAX, description="Full name.")
    customFields: dict[str, Any] | None = Field(
        default=None, description="Custom profile fields, merged key by key into the profile."
    )


class NativeEventBody(BaseModel):
    """One customer event in Cartwheel's own schema."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=NAME_MAX, description="Event name, e.g. `Viewed Product`."
    )
    contact: NativeContactBody = Field(description="Who the event is about.")
    occurredAt: datetime | None = Field(
        default=None,
        description="When it happened (RFC 3339; no offset means UTC). Defaults to now.",
    )
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=SOURCE_MAX,
        description="The platform that sent it, e.g. `woocommerce`; also a new contact's source.",
    )
    properties: dict[str, Any] | None = Field(
        default=None,
        description="Event data. Top-level scalars are segmentable (ISO-8601 strings are "
        "typed as dates); nested objects and arrays are stored whole, not segmentable.",
    )
    value: float | None = Field(default=None, description="Monetary value of the event.")
    currency: str | None = Field(
        default=None, pattern="^[A-Za-z]{3}$", description="ISO 4217 currency of `value`."
    )
    dedupKey: str | None = Field(
        default=None,
        min_length=1,
        max_length=DEDUP_KEY_MAX,
        description="Idempotency key: a retry with the same key is answered with the first "
        "event (`duplicate: true`) and stored once.",
    )
    silent: bool = Field(default=False, description="Store the event but trigger no automation.")
    test: bool = Field(
        default=False, description="Validate and resolve the contact, but store nothing."
    )
    category: str | None = Field(
        default=None,
        description="Lifecycle category: one of "
        + ", ".join(f"`{c}`" for c in ENTITY_CATEGORIES)
        + ". Requires `action`.",
    )
    action: str | None = Field(
        default=None,
        min_length=1,
        max_length=ACTION_MAX,
        description="Lifecycle action, e.g. `created`, `updated`, `completed`.",
    )
    entity: dict[str, Any] | None = Field(
        default=None,
        description="For a lifecycle event: the record it describes, in Cartwheel's canonical "
        "record shape for its `category` (snake_case keys; unknown keys are dropped). "
        "Requires `category`.",
        json_schema_extra={"anyOf": [*_entity_schemas(), {"type": "null"}]},
    )


class NativeBatchBody(BaseModel):
    """Up to 100 events. Each is validated and stored on its own: valid events are stored
    even when others in the same request are rejected."""

    model_config = ConfigDict(extra="forbid")

    events: list[NativeEventBody] = Field(
        min_length=1, max_length=100, description="The events, in order."
    )


class EventAcceptedView(BaseModel):
    id: str | None = Field(description="The event id (time-ordered UUID); null for a test event.")
    contactId: int | None = Field(
        description="The contact the event was attached to; null for a test event that "
        "matched no contact."
    )
    contactUuid: str | None = Field(description="That contact's public uuid.")
    receivedAt: datetime = Field(description="When Cartwheel stored the event.")
    duplicate: bool = Field(
        description="True when `dedupKey` was seen before: this is the first event, and "
        "nothing new was stored."
    )


class BatchItemView(BaseModel):
    index: int = Field(description="Position of the event in the request.")
    accepted: bool = Field(description="Whether the event was accepted.")
    id: str | None = Field(default=None, description="Accepted: the event id.")
    contactId: int | None = Field(default=None, description="Accepted: the contact id.")
    contactUuid: str | None = Field(default=None, description="Accepted: the contact uuid.")
    receivedAt: datetime | None = Field(default=None, description="Accepted: when it was stored.")
    duplicate: bool | None = Field(default=None, description="Accepted: seen before.")
    status: int | None = Field(
        default=None, description="Rejected: the HTTP status this event alone would get."
    )
    message: str | None = Field(default=None, description="Rejected: what was wrong.")
    errors: dict[str, list[str]] | None = Field(
        default=None, description="Rejected: field-level messages (paths within the event)."
    )


class BatchAcceptedView(BaseModel):
    accepted: int = Field(description="How many events were accepted.")
    rejected: int = Field(description="How many events were rejected.")
    results: list[BatchItemView] = Field(description="One result per event, in request order.")


# -- examples -------------------------------------------------------------------------------

EXAMPLE_EVENT: dict[str, Any] = {
    "name": "Viewed Product",
    "occurredAt": "2026-04-02T12:00:00Z",
    "source": "woocommerce",
    "contact": {"email": "ann@example.com", "firstName": "Ann", "externalId": "cus_1001"},
    "properties": {"productId": "p-77", "price": 24.5, "tags": ["summer", "sale"]},
}

EXAMPLE_ORDER: dict[str, Any] = {
    "name": "Placed Order",
    "category": "order",
    "action": "completed",
    "dedupKey": "order-5001-completed",
    "value": 59.9,
    "currency": "EUR",
    "contact": {"externalId": 1001, "email": "ann@example.com", "phone": "+15551234567"},
    "properties": {"orderNumber": "5001", "itemCount": 2},
    "entity": {
        "id": "5001",
        "status": "completed",
        "currency": "EUR",
        "total": 59.9,
        "items": [{"product_id": "p-77", "name": "Sun hat", "price": 29.95, "quantity": 2}],
    },
}

EVENT_EXAMPLES: dict[str, Any] = {
    "custom": {"summary": "A custom event", "value": EXAMPLE_EVENT},
    "order": {"summary": "A lifecycle event with its order record", "value": EXAMPLE_ORDER},
    "test": {
        "summary": "A test event: validated, nothing stored",
        "value": {"name": "Signed Up", "test": True, "contact": {"email": "ann@example.com"}},
    },
}

BATCH_EXAMPLES: dict[str, Any] = {
    "two events": {
        "summary": "Two events in one request",
        "value": {"events": [EXAMPLE_EVENT, EXAMPLE_ORDER]},
    }
}
