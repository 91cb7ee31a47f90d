"""Webhook request and response shapes.

Requests are decoded by hand (:func:`parse_create` and friends) so every validation message
is this API's own; the pydantic request models only document the bodies in OpenAPI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cartwheel.exceptions import BadRequest, ValidationFailed
from cartwheel.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from cartwheel.webhooks import event_types, guard, signing

WebhookEvent = Literal[
    "order_created",
    "order_updated",
    "product_created",
    "product_updated",
    "form_submitted",
    "contact_updated",
    "booking_created",
    "event_tracked",
    "contact_created",
    "contact_merged",
    "contact_deleted",
    "segment_entered",
    "segment_exited",
    "flow_run_started",
    "flow_run_finished",
]
Status = Literal["active", "paused", "disabled"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]

DOCUMENT_REQUEST_EXAMPLE: dict[str, Any] = {
    "secret": "your-secret",
    "events": ["order_created", "order_updated"],
}
DOCUMENT_RESPONSE_EXAMPLE: dict[str, Any] = {
    "id": "rh_24488493954",
    "secret": "your-secret",
    "events": ["order_created", "order_updated"],
}

_EVENTS_DESCRIPTION = (
    "Event types to receive. The document's seven (`order_created`, `order_updated`, "
    "`product_created`, `product_updated`, `form_submitted`, `contact_updated`, "
    "`booking_created`) and Cartwheel's `event_tracked` (every stored, non-silent event), "
    "`contact_created`, `contact_merged`, `contact_deleted`, `segment_entered` and "
    "`segment_exited` (a contact entered or left a segment), `flow_run_started` and "
    "`flow_run_finished` (a flow's run began or ended)."
)


# -- requests (documentation) --------------------------------------------------------------


class WebhookCreate(BaseModel):
    """Subscribe a URL to event types."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"target": "https://example.com/hooks", **DOCUMENT_REQUEST_EXAMPLE}]
        }
    )

    target: str = Field(
        description="The http(s) URL that receives a POST per event. Hosts resolving to "
        "private, loopback or link-local addresses are refused.",
        max_length=guard.MAX_TARGET_LENGTH,
    )
    secret: str | None = Field(
        default=None,
        description="Signing secret. Omit it to have one generated (`whsec_…`, shown only in "
        "this answer). A `whsec_` secret is base64 of 24–64 bytes; any other string is used "
        "as its UTF-8 bytes.",
    )
    events: list[WebhookEvent] = Field(min_length=1, description=_EVENTS_DESCRIPTION)
    eventNames: list[str] | None = Field(
        default=None,
        description="For `event_tracked`: only events with these names (null = all).",
    )


class WebhookUpdate(BaseModel):
    """Change a webhook; only the supplied fields change."""

    target: str | None = Field(default=None, description="New target URL (checked again).")
    secret: str | None = Field(default=None, description="New signing secret (rotation).")
    events: list[WebhookEvent] | None = Field(default=None, description=_EVENTS_DESCRIPTION)
    eventNames: list[str] | None = Field(
        default=None, description="New `event_tracked` name filter; null removes it."
    )


class ReplayRange(BaseModel):
    """Queue again every finished delivery of a time range."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"from": 1573251649, "to": 1573338049}]}
    )

    from_: int | str = Field(
        alias="from",
        description="Start (inclusive): Unix seconds or an ISO-8601 date-time.",
    )
    to: int | str | None = Field(
        default=None, description="End (inclusive): Unix seconds or ISO-8601; default now."
    )
    onlyFailed: bool = Field(
        default=False, description="Replay only deliveries that were given up."
    )


# -- responses -----------------------------------------------------------------------------


class Webhook(BaseModel):
    """A webhook subscription (its secret is shown only when it is created)."""

    id: str = Field(description="Unique identifier (`rh_…`).")
    target: str = Field(description="The URL deliveries are POSTed to.")
    events: list[str] = Field(description="Event types this webhook receives.")
    eventNames: list[str] | None = Field(
        description="`event_tracked` filter by event name; null = every event."
    )
    status: Status = Field(
        description="`active`; `paused` by the merchant; `disabled` after a delivery "
        "exhausted its retries or the target answered 410 (resume to re-enable). A paused "
        "webhook keeps queueing and delivers in order once resumed; a disabled one keeps "
        "what was queued but takes no new events until resumed."
    )
    disabledReason: str | None = Field(description="Why the webhook was disabled.")
    createdOn: datetime = Field(description="When the webhook was created.")
    updatedOn: datetime = Field(description="When it was last changed.")


class WebhookCreated(BaseModel):
    """The new webhook, with its signing secret (shown this once)."""

    model_config = ConfigDict(json_schema_extra={"examples": [DOCUMENT_RESPONSE_EXAMPLE]})

    id: str = Field(description="Unique identifier (`rh_…`).")
    secret: str = Field(description="The signing secret. It is not shown again.")
    target: str = Field(description="The URL deliveries are POSTed to.")
    events: list[str] = Field(description="Event types this webhook receives.")
    eventNames: list[str] | None = Field(description="`event_tracked` name filter, or null.")
    status: Status = Field(description="`active` for a new webhook.")
    disabledReason: str | None = Field(description="Always null for a new webhook.")
    createdOn: datetime = Field(description="When the webhook was created.")
    updatedOn: datetime = Field(description="When it was last changed.")


class Attempt(BaseModel):
    attemptedAt: datetime = Field(description="When the request was sent.")
    responseCode: int | None = Field(description="HTTP status answered; null if none.")
    latencyMs: int = Field(description="Milliseconds from sending to the answer (or failure).")
    error: str | None = Field(description="Why the attempt failed; null if it succeeded.")
    succeeded: bool = Field(description="True for a 2xx answer.")
    responseBody: str | None = Field(description="The first 4 KB of the answer's body.")


class Delivery(BaseModel):
    """One message for one webhook, with every attempt made to deliver it."""

    id: int = Field(description="Delivery id.")
    webhookId: str = Field(description="The webhook (`rh_…`).")
    messageId: str = Field(description="The `webhook-id` header: the same on every retry.")
    eventType: str = Field(description="The event type.")
    status: DeliveryStatus = Field(
        description="`pending` (queued or waiting for a retry), `succeeded`, or `failed` "
        "(every retry failed, or the target answered 410)."
    )
    attemptCount: int = Field(description="Attempts made since it was queued.")
    responseCode: int | None = Field(description="HTTP status of the last attempt.")
    latencyMs: int | None = Field(description="Latency of the last attempt, in milliseconds.")
    error: str | None = Field(description="Error of the last attempt, if it failed.")
    lastAttemptAt: datetime | None = Field(description="When it was last attempted.")
    nextAttemptAt: datetime | None = Field(description="When it is next attempted (pending only).")
    createdOn: datetime = Field(description="When it was queued.")
    completedOn: datetime | None = Field(description="When it succeeded or was given up.")
    replayOf: int | None = Field(description="The delivery this one replays, if any.")
    payload: Any = Field(description="The JSON body sent.")
    attempts: list[Attempt] = Field(description="Every attempt, oldest first.")


class ReplayResult(BaseModel):
    replayed: int = Field(description="Deliveries queued again.")


# -- parsing -------------------------------------------------------------------------------

_UNSET: Any = object()


@dataclass(frozen=True)
class WebhookInput:
    """A parsed create or update body. For an update, ``None`` means "not supplied", except
    ``event_names``, where :data:`UNSET` means "not supplied" and None means "all"."""

    target: str | None = None
    secret: str | None = None
    events: list[str] | None = None
    event_names: list[str] | None = _UNSET

    @property
    def event_names_given(self) -> bool:
        return self.event_names is not _UNSET


UNSET = _UNSET


def parse_create(data: Any) -> WebhookInput:
    parsed = _parse(data, creating=True)
    _require_filter_target(
        parsed.events or [], parsed.event_names if parsed.event_names_given else None
    )
    return parsed


def parse_update(data: Any) -> WebhookInput:
    return _parse(data, creating=False)


def _parse(data: Any, *, creating: bool) -> WebhookInput:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    errors: dict[str, list[str]] = {}

    target = data.get("target")
    if target is None:
        if creating:
            errors["target"] = ["The target field is required."]
    elif not isinstance(target, str):
        errors["target"] = ["The target must be a string."]
    elif problem := guard.target_problem(target):
        errors["target"] = [problem]

    secret = data.get("secret")
    if secret is not None:
        if not isinstance(secret, str):
            errors["secret"] = ["The secret must be a string."]
        elif problem := signing.secret_problem(secret):
            errors["secret"] = [problem]

    events = data.get("events")
    if events is None:
        if creating:
            errors["events"] = ["The events field is required."]
    elif not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        errors["events"] = ["The events must be an array of event type names."]
    elif not events:
        errors["events"] = ["The events must contain at least one event type."]
    else:
        unknown = [e for e in events if e not in event_types.ALL]
        if unknown:
            errors["events"] = [f"The event type {e} is not supported." for e in unknown]
        events = list(dict.fromkeys(events))

    event_names: Any = _UNSET
    if "eventNames" in data:
        event_names = data["eventNames"]
        if event_names is not None and (
            not isinstance(event_names, list)
            or not all(isinstance(n, str) and n for n in event_names)
        ):
            errors["eventNames"] = ["The eventNames must be an array of event names, or null."]
        elif event_names is not None:
            event_names = list(dict.fromkeys(event_names))

    if errors:
        raise ValidationFailed(errors)
    return WebhookInput(target, secret, events, event_names)


def _require_filter_target(events: list[str], event_names: list[str] | None) -> None:
    if event_names is not None and event_types.EVENT_TRACKED not in events:
        raise ValidationFailed(
            {"eventNames": ["The eventNames filter needs the event_tracked event type."]}
        )


def check_filter(events: list[str], event_names: list[str] | None) -> None:
    """The combined (stored + updated) filter must make sense."""
    _require_filter_target(events, event_names)


@dataclass(frozen=True)
class RangeInput:
    start: datetime
    end: datetime
    only_failed: bool


def parse_range(data: Any, now: datetime) -> RangeInput:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    errors: dict[str, list[str]] = {}
    start = end = None
    if data.get("from") is None:
        errors["from"] = ["The from field is required."]
    elif (start := _instant(data["from"])) is None:
        errors["from"] = ["The from must be Unix seconds or an ISO-8601 date-time."]
    if data.get("to") is None:
        end = now
    elif (end := _instant(data["to"])) is None:
        errors["to"] = ["The to must be Unix seconds or an ISO-8601 date-time."]
    only_failed = data.get("onlyFailed", False)
    if not isinstance(only_failed, bool):
        errors["onlyFailed"] = ["The onlyFailed field must be true or false."]
    if not errors and start is not None and end is not None and end < start:
        errors["to"] = ["The to must not be before from."]
    if errors:
        raise ValidationFailed(errors)
    assert start is not None and end is not None
    return RangeInput(start, end, only_failed)


def _instant(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


# -- views ---------------------------------------------------------------------------------


def webhook_view(row: WebhookSubscription) -> Webhook:
    return Webhook(
        id=row.public_id,
        target=row.target,
        events=list(row.events or []),
        eventNames=list(row.event_names) if row.event_names is not None else None,
        status=row.status,
        disabledReason=row.disabled_reason,
        createdOn=row.created_at,
        updatedOn=row.updated_at,
    )


def created_view(row: WebhookSubscription) -> WebhookCreated:
    view = webhook_view(row)
    return WebhookCreated(secret=row.secret, **view.model_dump())


def attempt_view(row: WebhookAttempt) -> Attempt:
    return Attempt(
        attemptedAt=row.attempted_at,
        responseCode=row.status_code,
        latencyMs=row.latency_ms,
        error=row.error,
        succeeded=row.succeeded,
        responseBody=row.response_body,
    )


def delivery_view(
    row: WebhookDelivery, webhook_id: str, attempts: list[WebhookAttempt]
) -> Delivery:
    return Delivery(
        id=row.id,
        webhookId=webhook_id,
        messageId=row.message_id,
        eventType=row.event_type,
        status=row.status,
        attemptCount=row.attempts,
        responseCode=row.last_status_code,
        latencyMs=row.last_latency_ms,
        error=row.last_error,
        lastAttemptAt=row.last_attempt_at,
        nextAttemptAt=row.next_attempt_at if row.status == "pending" else None,
        createdOn=row.created_at,
        completedOn=row.completed_at,
        replayOf=row.replay_of_id,
        payload=json.loads(row.body),
        attempts=[attempt_view(a) for a in attempts],
    )
