"""The tracking spec's request and answer shapes, for the OpenAPI document only (bodies are
decoded by :mod:`.decode`), and the examples every endpoint shows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    # The spec's libraries send fields beyond these (integrations, _metadata…): accepted.
    model_config = ConfigDict(extra="allow")


class SegmentContext(_Open):
    """Where the call came from; kept whole on the event (`extra.context`)."""

    ip: str | None = Field(default=None, description="The visitor's IP; the caller's if absent.")
    userAgent: str | None = Field(default=None, description="The visitor's user agent.")
    page: dict[str, Any] | None = Field(default=None, description="path, referrer, title, url.")
    campaign: dict[str, Any] | None = Field(default=None, description="UTM parameters.")
    library: dict[str, Any] | None = Field(
        default=None, description="`name` (the event's source) and `version` of the SDK."
    )
    traits: dict[str, Any] | None = Field(
        default=None, description="The user's traits: a valid `email` or `phone` names them."
    )


class SegmentMessage(_Open):
    """One call. `userId` or `anonymousId` is required; `type` is required in a batch."""

    type: Literal["track", "identify", "page", "screen", "group", "alias"] | None = Field(
        default=None, description="The call (the path says it for a single call)."
    )
    userId: str | None = Field(
        default=None, description="The store's own id for the user (an external id)."
    )
    anonymousId: str | None = Field(
        default=None,
        description="A visitor's id before they are known: alone, it names an anonymous "
        "profile; beside `userId` or an email trait, that profile joins the user's.",
    )
    messageId: str | None = Field(
        default=None, description="Deduplicates per store: a retried message is stored once."
    )
    event: str | None = Field(default=None, description="`track`: the event's name.")
    properties: dict[str, Any] | None = Field(
        default=None, description="`track`, `page`, `screen`: the event's properties."
    )
    traits: dict[str, Any] | None = Field(
        default=None, description="`identify`: the profile's traits; `group`: the group's."
    )
    name: str | None = Field(default=None, description="`page`, `screen`: its name.")
    groupId: str | None = Field(default=None, description="`group`: the group's id.")
    previousId: str | None = Field(
        default=None, description="`alias`: the earlier id, whose profile joins `userId`'s."
    )
    timestamp: str | None = Field(
        default=None, description="When it happened (ISO 8601), corrected by `sentAt`."
    )
    originalTimestamp: str | None = Field(default=None, description="Used without `timestamp`.")
    sentAt: str | None = Field(default=None, description="When the client sent it.")
    context: SegmentContext | None = Field(default=None, description="See `SegmentContext`.")
    writeKey: str | None = Field(
        default=None, description="The write key, for callers that send no Basic credential."
    )


class SegmentBatch(_Open):
    """Many calls (the server libraries' request): 500 KB at most, 32 KB per message."""

    batch: list[SegmentMessage] = Field(
        description="The messages; each one is stored or refused alone."
    )
    sentAt: str | None = Field(default=None, description="When the batch was sent.")
    context: SegmentContext | None = Field(
        default=None, description="Context shared by every message (each one's own wins)."
    )
    writeKey: str | None = Field(
        default=None, description="The write key, for callers that send no Basic credential."
    )


class SegmentRejected(BaseModel):
    index: int = Field(description="The message's position in `batch`.")
    messageId: str | None = Field(default=None, description="Its `messageId`, if it had one.")
    status: int = Field(description="The status it would have had alone (400, 413).")
    message: str = Field(description="Why it was refused.")
    errors: dict[str, list[str]] | None = Field(
        default=None, description="Invalid fields and their messages."
    )


class SegmentSuccess(BaseModel):
    """Stored durably before this answer."""

    success: Literal[True] = Field(description="Always true.")
    rejected: list[SegmentRejected] | None = Field(
        default=None, description="A batch's refused messages; the others are stored."
    )


class SegmentError(BaseModel):
    success: Literal[False] = Field(description="Always false.")
    code: str = Field(description="`invalid_request`, `unauthorized`, `payload_too_large`…")
    message: str = Field(description="What went wrong, for a human.")
    errors: dict[str, list[str]] | None = Field(
        default=None, description="Invalid fields (dotted paths) and their messages."
    )
    rejected: list[SegmentRejected] | None = Field(
        default=None, description="A batch none of whose messages was stored: each reason."
    )


# -- examples ---------------------------------------------------------------------------------

_CONTEXT: dict[str, Any] = {
    "ip": "203.0.113.7",
    "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
    "page": {"path": "/products/tsh-1", "url": "https://shop.example.com/products/tsh-1"},
    "campaign": {"source": "newsletter", "medium": "email", "name": "spring"},
    "library": {"name": "analytics-python", "version": "2.3.0"},
}

TRACK: dict[str, Any] = {
    "anonymousId": "0f0c8a8e-1b7e-4f6c-9c55-1b1f6c1d2e3f",
    "event": "Product Viewed",
    "properties": {"product_id": "TSH-1", "name": "T-shirt", "price": 29.99, "currency": "USD"},
    "context": _CONTEXT,
    "messageId": "2b5e1d6c-0d1f-4c3b-9a53-8c0f7b2f1a01",
    "timestamp": "2026-12-01T10:00:00Z",
}
IDENTIFY: dict[str, Any] = {
    "userId": "user-42",
    "anonymousId": "0f0c8a8e-1b7e-4f6c-9c55-1b1f6c1d2e3f",
    "traits": {"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "plan": "pro"},
    "messageId": "2b5e1d6c-0d1f-4c3b-9a53-8c0f7b2f1a02",
    "timestamp": "2026-12-01T10:05:00Z",
}
PAGE: dict[str, Any] = {
    "anonymousId": "0f0c8a8e-1b7e-4f6c-9c55-1b1f6c1d2e3f",
    "name": "Home",
    "properties": {"path": "/", "url": "https://shop.example.com/"},
    "messageId": "2b5e1d6c-0d1f-4c3b-9a53-8c0f7b2f1a03",
}
SCREEN: dict[str, Any] = {
    "userId": "user-42",
    "name": "Checkout",
    "properties": {"step": 2},
    "messageId": "2b5e1d6c-0d1f-4c3b-9a53-8c0f7b2f1a04",
}
GROUP: dict[str, Any] = {
    "userId": "user-42",
    "groupId": "acme",
    "traits": {"name": "Acme Inc.", "employees": 42},
    "messageId": "2b5e1d6c-0d1f-4c3b-9a53-8c0f7b2f1a05",
}
ALIAS: dict[str, Any] = {
    "previousId": "0f0c8a8e-1b7e-4f6c-9c55-1b1f6c1d2e3f",
    "userId": "user-42",
    "messageId": "2b5e1d6c-0d1f-4c3b-9a53-8c0f7b2f1a06",
}
ORDER_COMPLETED: dict[str, Any] = {
    "type": "track",
    "userId": "user-42",
    "event": "Order Completed",
    "properties": {
        "order_id": "50314b8e9bcf000000000000",
        "total": 27.5,
        "revenue": 25,
        "shipping": 3,
        "tax": 2,
        "discount": 2.5,
        "coupon": "hasbros",
        "currency": "USD",
        "products": [
            {
                "product_id": "507f1f77",
                "sku": "45790-32",
                "name": "Monopoly",
                "price": 19,
                "quantity": 1,
            },
            {
                "product_id": "505bd76785",
                "sku": "46493-32",
                "name": "Uno",
                "price": 3,
                "quantity": 2,
            },
        ],
    },
    "messageId": "2b5e1d6c-0d1f-4c3b-9a53-8c0f7b2f1a07",
}

CALL_EXAMPLES: dict[str, dict[str, Any]] = {
    "track": TRACK,
    "identify": IDENTIFY,
    "page": PAGE,
    "screen": SCREEN,
    "group": GROUP,
    "alias": ALIAS,
}
BATCH_EXAMPLE: dict[str, Any] = {
    "batch": [
        {"type": "track", **TRACK},
        {"type": "identify", **IDENTIFY},
        ORDER_COMPLETED,
    ],
    "sentAt": "2026-12-01T10:05:01Z",
    "context": {"library": {"name": "analytics-node", "version": "2.3.0"}},
}
