"""The Redo request and answer shapes, for the OpenAPI document only (the endpoints decode
bodies themselves, see :mod:`cartwheel.wire.redo.parse`), and the document's examples."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

_SCALAR: list[JsonValue] = [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]


class RedoCustomerLocation(BaseModel):
    """Customer location for profile enrichment. All fields are optional."""

    model_config = ConfigDict(extra="forbid")

    street1: str | None = Field(default=None, description="Primary street address.")
    street2: str | None = Field(
        default=None, description="Secondary address line (apartment, suite, etc.)."
    )
    city: str | None = Field(default=None, description="City name.")
    state: str | None = Field(default=None, description="State or province name.")
    stateCode: str | None = Field(
        default=None, description='State or province abbreviation (e.g., "CA", "NY").'
    )
    postalCode: str | None = Field(default=None, description="Postal or ZIP code.")
    country: str | None = Field(default=None, description="Country name.")
    countryCode: str | None = Field(
        default=None, description='ISO 3166-1 alpha-2 country code (e.g., "US", "GB").'
    )
    ianaTimeZoneName: str | None = Field(
        default=None, description='IANA time zone identifier (e.g., "America/New_York").'
    )
    latitude: float | None = Field(default=None, description="Geographic latitude coordinate.")
    longitude: float | None = Field(default=None, description="Geographic longitude coordinate.")


class RedoCustomer(BaseModel):
    """Customer identity and profile fields. At least one of `id`, `email`, or `phoneNumber`
    is required for identity resolution."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["id"]}, {"required": ["email"]}, {"required": ["phoneNumber"]}]
        },
    )

    id: str | None = Field(
        default=None,
        description="Customer id (a Cartwheel contact's `uuid` or numeric `id`). Used for "
        "identity resolution. Takes priority over email and phoneNumber when provided; an id "
        "that matches no customer falls back to email/phone.",
    )
    email: str | None = Field(
        default=None,
        description="Customer email address. Used for identity resolution.",
        json_schema_extra={"format": "email"},
    )
    phoneNumber: str | None = Field(
        default=None,
        description="Customer phone number in E.164 format. Used for identity resolution.",
    )
    firstName: str | None = Field(
        default=None,
        description="Customer first name. Applied with patch semantics — does not erase "
        "existing value if omitted.",
    )
    lastName: str | None = Field(
        default=None,
        description="Customer last name. Applied with patch semantics — does not erase "
        "existing value if omitted.",
    )
    location: RedoCustomerLocation | None = Field(
        default=None, description="Customer location for profile enrichment."
    )
    customFields: dict[str, str | float | bool] | None = Field(
        default=None,
        description="Merchant-defined customer attributes as key-value pairs. Values can be "
        "strings, numbers, or booleans. Date values should be passed as ISO 8601 strings (e.g., "
        '"2026-04-02T12:00:00Z") and are automatically detected and indexed as dates.',
    )


class RedoEventData(BaseModel):
    """Custom properties for this event (must not exceed 400 properties). The size of the
    event payload must not exceed 5 MB, and each string cannot be larger than 100 KB.

    Any top-level property that is not an object can be used to create segments. The
    `$extra` property records non-segmentable values that can be referenced later."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "additionalProperties": {
                "description": "Segmentable event property. Supported types are string, "
                'number, boolean, and date (ISO 8601 strings like "2025-01-15T00:00:00Z" are '
                'auto-detected as dates). Values of 0, null, and empty string ("") are treated '
                "as unset and will not be stored.",
                "anyOf": _SCALAR,
            }
        },
    )

    extra: dict[str, Any] | None = Field(
        default=None,
        alias="$extra",
        description="Non-segmentable metadata bucket. Values inside `$extra` are stored on the "
        "event but excluded from segmentation indexes. Unlike top-level data properties, values "
        "of 0, null, and empty string are NOT stripped inside `$extra`.",
    )


class RedoCustomEventRequest(BaseModel):
    """Custom event to trigger flows with merchant-defined event names and properties."""

    model_config = ConfigDict(extra="allow", title="Custom Event Request")

    eventName: str = Field(
        description="The name of the custom event (e.g., 'User Registered', "
        "'Loyalty Reward Earned'). At most 300 characters."
    )
    customer: RedoCustomer = Field(description="Customer identity and profile fields.")
    data: RedoEventData | None = Field(default=None, description="Custom event properties.")
    eventTimestamp: datetime | None = Field(
        default=None,
        description="ISO 8601 timestamp when the event occurred. Defaults to current time if "
        "not provided.",
    )
    value: float | None = Field(
        default=None,
        description="Monetary or conversion value associated with the event (e.g., purchase "
        "amount).",
    )
    valueCurrency: str | None = Field(
        default=None,
        description='ISO 4217 currency code for the value field (e.g., "USD", "EUR").',
    )
    uniqueId: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="Merchant-controlled deduplication key (1-255 characters). If provided, "
        "subsequent events with the same uniqueId for the same store are silently "
        "deduplicated. Use this for safe retries and at-least-once delivery patterns.",
    )


class RedoBulkCustomEventRequest(BaseModel):
    """Request body for sending multiple custom events in a single request."""

    model_config = ConfigDict(extra="forbid", title="Bulk Custom Event Request")

    events: list[RedoCustomEventRequest] = Field(
        min_length=1, max_length=100, description="Array of custom events to create."
    )


class RedoFieldError(BaseModel):
    field: str = Field(description="JSON path of the field, relative to the event.")
    message: str = Field(description="What is wrong with it.")


class RedoBulkEventResult(BaseModel):
    index: int = Field(description="Position of the event in `events`, from 0.")
    status: Literal["accepted", "rejected"] = Field(
        description="`accepted` (stored, or a duplicate of a stored `uniqueId`) or `rejected`."
    )
    error: str | None = Field(default=None, description="Why the event was rejected.")
    errors: list[RedoFieldError] | None = Field(
        default=None, description="Every invalid field of a rejected event."
    )


class RedoBulkResponse(BaseModel):
    """Per-event results, sent when some events of a bulk request were rejected."""

    accepted: int = Field(description="How many events were accepted.")
    rejected: int = Field(description="How many events were rejected.")
    results: list[RedoBulkEventResult] = Field(description="One result per event, in order.")


class RedoProblem(BaseModel):
    """RFC 7807 problem details (`application/problem+json`)."""

    type: str = Field(description="`about:blank`: the status and title say what happened.")
    title: str = Field(description="The HTTP status phrase, e.g. `Bad Request`.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong, for a human.")
    errors: list[RedoFieldError] | None = Field(
        default=None, description="Every invalid field, for a request that failed validation."
    )
    results: list[RedoBulkEventResult] | None = Field(
        default=None,
        description="Per-event results, for a bulk request none of whose events was accepted.",
    )


# -- the document's examples -------------------------------------------------------------------

FULL_EXAMPLE: dict[str, Any] = {
    "eventName": "Purchase Milestone Reached",
    "customer": {
        "id": "665f1a2b3c4d5e6f7a8b9c0d",
        "email": "stewart@example.com",
        "phoneNumber": "+11234567890",
        "firstName": "Stewart",
        "lastName": "Thompson",
        "location": {
            "street1": "123 Main St",
            "street2": "Apt 4B",
            "city": "Seattle",
            "state": "Washington",
            "stateCode": "WA",
            "postalCode": "98101",
            "country": "United States",
            "countryCode": "US",
            "ianaTimeZoneName": "America/Los_Angeles",
            "latitude": 47.6062,
            "longitude": -122.3321,
        },
        "customFields": {
            "Age at Signup": 25,
            "Birthday": "1976-07-04T12:00:00Z",
            "Loyalty Tier": "Gold",
            "Accepts Marketing": True,
        },
    },
    "eventTimestamp": "2026-04-02T12:00:00Z",
    "value": 299.99,
    "valueCurrency": "USD",
    "uniqueId": "milestone-test-001",
    "data": {
        "Milestone Type": "100th_purchase",
        "Total Spent": 5000,
        "VIP Tier": "gold",
        "Enrolled At": "2025-01-01T00:00:00Z",
        "Campaign Source": "email_drip",
        "Last Purchase Date": "2026-03-15T00:00:00Z",
        "$extra": {
            "Most Recent Order IDs": [1, 2, 3],
            "Profile Snapshot": {"tier": "gold", "memberSince": "2024-01-01"},
        },
    },
}

MEDIUM_EXAMPLE: dict[str, Any] = {
    "eventName": "Order Placed",
    "customer": {
        "email": "stewart@example.com",
        "firstName": "Stewart",
        "lastName": "Thompson",
        "customFields": {"Birthday": "1976-07-04T12:00:00Z", "Loyalty Tier": "Gold"},
    },
    "value": 149.99,
    "valueCurrency": "USD",
    "data": {"Order Id": "ord_456", "Item Count": 3, "Category": "apparel"},
}

MINIMAL_EXAMPLE: dict[str, Any] = {
    "eventName": "Page Viewed",
    "customer": {"email": "stewart@example.com"},
}

MIXED_EVENTS_EXAMPLE: dict[str, Any] = {
    "events": [
        {
            "eventName": "User Registered",
            "customer": {"email": "alice@example.com"},
            "data": {"Plan Type": "premium"},
        },
        {
            "eventName": "Purchase Completed",
            "customer": {"email": "bob@example.com"},
            "data": {"Order Total": 99.99, "Item Count": 3},
            "value": 99.99,
            "valueCurrency": "USD",
            "uniqueId": "order-456",
        },
    ]
}

EVENT_EXAMPLES: dict[str, Any] = {
    "full_example": {"summary": "Every field populated", "value": FULL_EXAMPLE},
    "medium_example": {"summary": "Event with customer profile and data", "value": MEDIUM_EXAMPLE},
    "minimal": {"summary": "Required fields only", "value": MINIMAL_EXAMPLE},
}

BULK_EXAMPLES: dict[str, Any] = {
    "mixed_events": {
        "summary": "Bulk event creation with multiple event types",
        "value": MIXED_EVENTS_EXAMPLE,
    }
}
