"""The messaging API's shapes: templates, messages, suppressions, campaigns, the sender."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from cartwheel.kit.requests import Id
from cartwheel.text import SINGLE_LINE

Name = Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE]
Email = Annotated[str, Field(min_length=3, max_length=320), SINGLE_LINE]
#: The largest template part (subject, HTML, text).
MAX_SOURCE = 100_000
Source = Annotated[str, Field(max_length=MAX_SOURCE)]
Channel = Literal["email", "sms"]
Topic = Literal["marketing", "transactional"]

TEMPLATE_REQUEST_EXAMPLE: dict[str, Any] = {
    "name": "Order shipped",
    "channel": "email",
    "topic": "transactional",
    "subject": "Your order {{ order.invoiceNo }} is on its way",
    "html": "<style>p{color:#333}</style><p>Hi {{ contact.firstName | default: 'there' }},</p>"
    "<p>{% for line in order.lines %}{{ line.quantity }} × {{ line.name }}<br>{% endfor %}</p>",
    "fromEmail": "shop@example.com",
    "fromName": "Example Shop",
}
TEMPLATE_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "key": None,
    "text": None,
    "replyTo": None,
    "created": "2026-12-01T10:00:00Z",
    "updated": "2026-12-01T10:00:00Z",
    **TEMPLATE_REQUEST_EXAMPLE,
}


class TemplateCreate(BaseModel):
    """A Liquid template. Email: `subject` and `html` (a plain-text part is made from the HTML
    unless `text` is given). SMS: `text` only."""

    model_config = ConfigDict(json_schema_extra={"examples": [TEMPLATE_REQUEST_EXAMPLE]})

    name: Name = Field(description="The template's name.")
    channel: Channel = Field(description="email or sms.")
    topic: Topic = Field(
        default="marketing",
        description="marketing (needs the contact's consent) or transactional.",
    )
    key: Literal["member_password_reset", "order_digital_content", "order_status"] | None = Field(
        default=None,
        description="Make this template the store's version of one of Cartwheel's "
        "transactional messages.",
    )
    subject: Source | None = Field(default=None, description="Email subject (Liquid).")
    html: Source | None = Field(default=None, description="Email HTML body (Liquid).")
    text: Source | None = Field(
        default=None,
        description="Email plain-text part (Liquid; default: made from the HTML), or the SMS.",
    )
    fromEmail: Email | None = Field(default=None, description="Sender address (email).")
    fromName: Name | None = Field(default=None, description="Sender name (email).")
    replyTo: Email | None = Field(default=None, description="Reply-To address (email).")


class TemplateUpdate(BaseModel):
    """Change a template: the fields given replace the stored ones (null clears)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"subject": "Shipped: {{ order.invoiceNo }}"}]}
    )

    name: Name | None = Field(default=None, description="The template's name.")
    topic: Topic | None = Field(default=None, description="marketing or transactional.")
    subject: Source | None = Field(default=None, description="Email subject (Liquid).")
    html: Source | None = Field(default=None, description="Email HTML body (Liquid).")
    text: Source | None = Field(default=None, description="Plain-text part, or the SMS.")
    fromEmail: Email | None = Field(default=None, description="Sender address.")
    fromName: Name | None = Field(default=None, description="Sender name.")
    replyTo: Email | None = Field(default=None, description="Reply-To address.")


class Template(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [TEMPLATE_EXAMPLE]})

    id: int = Field(description="Template id.")
    name: str = Field(description="The template's name.")
    key: str | None = Field(description="The transactional message it overrides, if any.")
    channel: str = Field(description="email or sms.")
    topic: str = Field(description="marketing or transactional.")
    subject: str | None = Field(description="Email subject (Liquid).")
    html: str | None = Field(description="Email HTML body (Liquid).")
    text: str | None = Field(description="Plain-text part, or the SMS (Liquid).")
    fromEmail: str | None = Field(description="Sender address.")
    fromName: str | None = Field(description="Sender name.")
    replyTo: str | None = Field(description="Reply-To address.")
    created: datetime = Field(description="When it was created.")
    updated: datetime = Field(description="When it last changed.")


class RenderRequest(BaseModel):
    """What to render a template with: a contact (and optionally an event, an order or a
    cart of the store), or sample data when no contact is given."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"contactId": 123, "orderId": 1001}, {}]}
    )

    contactId: Id | None = Field(default=None, description="The contact (default: sample).")
    eventId: str | None = Field(default=None, max_length=36, description="An event's id.")
    orderId: Id | None = Field(default=None, description="An order's id.")
    cartId: Id | None = Field(default=None, description="A cart's id.")
    data: dict[str, Any] | None = Field(default=None, description="Values seen as `data`.")


class RenderResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "Your order 1001 is on its way",
                    "html": '<html><head></head><body><p style="color: #333;">Hi Ann,</p>'
                    "</body></html>",
                    "text": "Hi Ann,",
                }
            ]
        }
    )

    subject: str | None = Field(description="The rendered subject (email).")
    html: str | None = Field(description="The rendered HTML, CSS inlined (email).")
    text: str = Field(description="The plain-text part, or the SMS.")


class MessageAttempt(BaseModel):
    startedAt: datetime = Field(description="When the try began.")
    finishedAt: datetime | None = Field(description="When it ended (null: unknown).")
    outcome: str | None = Field(
        description="sent, temporary, permanent, or interrupted (the sender stopped "
        "mid-try; whether it left is unknown, and it is tried again under the same "
        "Message-ID)."
    )
    code: int | None = Field(description="The SMTP reply or HTTP status code.")
    error: str | None = Field(description="What went wrong.")


MESSAGE_EXAMPLE: dict[str, Any] = {
    "id": 77,
    "contactId": 123,
    "templateId": 4,
    "templateKey": None,
    "campaignId": None,
    "channel": "email",
    "topic": "transactional",
    "status": "sent",
    "to": "ann@example.com",
    "idempotencyKey": "flow:3:run:9:step:2",
    "subject": "Your order 1001 is on its way",
    "attempts": 1,
    "lastError": None,
    "created": "2026-12-01T10:00:00Z",
    "sentAt": "2026-12-01T10:00:01Z",
    "openedAt": None,
    "clickedAt": None,
    "opens": 0,
    "clicks": 0,
}


class Message(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [MESSAGE_EXAMPLE]})

    id: int = Field(description="Message id.")
    contactId: int | None = Field(description="The recipient contact.")
    templateId: int | None = Field(description="The store's template it came from.")
    templateKey: str | None = Field(description="The transactional message it is, if any.")
    campaignId: int | None = Field(description="The campaign it belongs to, if any.")
    channel: str = Field(description="email or sms.")
    topic: str = Field(description="marketing or transactional.")
    status: str = Field(
        description="queued, sending, sent, failed, bounced, or skipped (no consent, a "
        "suppressed address, no address)."
    )
    to: str | None = Field(description="The address it went to (set when sent).")
    idempotencyKey: str = Field(description="Its idempotency key.")
    subject: str | None = Field(description="The rendered subject.")
    attempts: int = Field(description="Tries so far.")
    lastError: str | None = Field(description="Why the last try failed, or why it was skipped.")
    created: datetime = Field(description="When it was queued.")
    sentAt: datetime | None = Field(description="When the relay or provider accepted it.")
    openedAt: datetime | None = Field(description="First open (tracking pixel).")
    clickedAt: datetime | None = Field(description="First click on a tracked link.")
    opens: int = Field(description="Opens recorded.")
    clicks: int = Field(description="Clicks recorded.")


class MessageDetail(Message):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **MESSAGE_EXAMPLE,
                    "html": "<html><body><p>Hi Ann</p></body></html>",
                    "text": "Hi Ann",
                    "messageIdHeader": "<m77.s1.3f2a@cartwheel.example.com>",
                    "attemptLog": [
                        {
                            "startedAt": "2026-12-01T10:00:00Z",
                            "finishedAt": "2026-12-01T10:00:01Z",
                            "outcome": "sent",
                            "code": 250,
                            "error": None,
                        }
                    ],
                }
            ]
        }
    )

    html: str | None = Field(description="The rendered HTML as sent.")
    text: str | None = Field(description="The rendered text part, or the SMS.")
    messageIdHeader: str | None = Field(description="The email's Message-ID.")
    attemptLog: list[MessageAttempt] = Field(description="Every try, oldest first.")


class SuppressionCreate(BaseModel):
    """Suppress an address: no message of the store goes to it, whatever its topic."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"channel": "email", "address": "ann@example.com"}]}
    )

    channel: Channel = Field(default="email", description="email or sms.")
    address: Annotated[str, Field(min_length=3, max_length=320), SINGLE_LINE] = Field(
        description="An email address or a phone number."
    )
    reason: Literal["manual", "complaint", "hard_bounce"] = Field(
        default="manual", description="Why."
    )


class Suppression(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 3,
                    "channel": "email",
                    "address": "ann@example.com",
                    "reason": "hard_bounce",
                    "detail": "550 5.1.1 No such user",
                    "created": "2026-12-01T10:00:00Z",
                }
            ]
        }
    )

    id: int = Field(description="Suppression id.")
    channel: str = Field(description="email or sms.")
    address: str = Field(description="The suppressed address.")
    reason: str = Field(description="hard_bounce, complaint, manual or sms_stop.")
    detail: str | None = Field(description="The bounce or provider message, if any.")
    created: datetime = Field(description="When it was suppressed.")


def _iso_time(value: Any) -> Any:
    """An ISO 8601 string as a datetime (the strict JSON validation takes no string)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("Give an ISO 8601 date and time, e.g. 2026-12-05T09:00:00Z.") from None
    return value


CAMPAIGN_REQUEST_EXAMPLE: dict[str, Any] = {
    "name": "December newsletter",
    "templateId": 4,
    "listId": 12,
    "sendAt": "2026-12-05T09:00:00Z",
    "ratePerSecond": 50,
}


class CampaignCreate(BaseModel):
    """Send a marketing template to a subscriber list or a segment, now or at `sendAt`."""

    model_config = ConfigDict(json_schema_extra={"examples": [CAMPAIGN_REQUEST_EXAMPLE]})

    name: Name = Field(description="The campaign's name.")
    templateId: Id = Field(description="The template to send.")
    listId: Id | None = Field(default=None, description="The subscriber list to send to.")
    segmentId: Id | None = Field(default=None, description="The segment to send to.")
    sendAt: Annotated[datetime, BeforeValidator(_iso_time)] | None = Field(
        default=None, description="When to send, ISO 8601 with its offset (default: now)."
    )
    ratePerSecond: float | None = Field(
        default=None, gt=0, le=10_000, description="Most messages per second."
    )


class CampaignStats(BaseModel):
    recipients: int = Field(description="Messages queued (one per recipient).")
    sent: int = Field(description="Handed to the relay or provider.")
    delivered: int = Field(description="Sent and not bounced.")
    opened: int = Field(description="Messages opened at least once.")
    clicked: int = Field(description="Messages with at least one click.")
    unsubscribed: int = Field(description="Recipients who unsubscribed through it.")
    bounced: int = Field(description="Bounced or permanently refused.")
    skipped: int = Field(description="Not sent: no consent, suppressed, no address.")
    failed: int = Field(description="Given up after every retry.")


class Campaign(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 2,
                    "status": "sent",
                    "created": "2026-12-01T10:00:00Z",
                    "startedAt": "2026-12-05T09:00:00Z",
                    "finishedAt": "2026-12-05T09:02:00Z",
                    "stats": {
                        "recipients": 100,
                        "sent": 98,
                        "delivered": 97,
                        "opened": 40,
                        "clicked": 12,
                        "unsubscribed": 1,
                        "bounced": 1,
                        "skipped": 2,
                        "failed": 0,
                    },
                    **{k: v for k, v in CAMPAIGN_REQUEST_EXAMPLE.items()},
                    "segmentId": None,
                }
            ]
        }
    )

    id: int = Field(description="Campaign id.")
    name: str = Field(description="The campaign's name.")
    templateId: int | None = Field(description="The template.")
    listId: int | None = Field(description="The subscriber list.")
    segmentId: int | None = Field(description="The segment.")
    status: str = Field(description="scheduled, sending, sent or cancelled.")
    sendAt: datetime = Field(description="When it is or was sent.")
    ratePerSecond: float | None = Field(description="Most messages per second.")
    created: datetime = Field(description="When it was created.")
    startedAt: datetime | None = Field(description="When sending began.")
    finishedAt: datetime | None = Field(description="When every message was queued.")
    stats: CampaignStats = Field(description="What happened to its messages.")


class SenderSettings(BaseModel):
    """The store's sender; null fields fall back to `CARTWHEEL_MAIL_FROM` / `CARTWHEEL_SMS_FROM`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "fromEmail": "shop@example.com",
                    "fromName": "Example Shop",
                    "replyTo": "help@example.com",
                    "smsFrom": "+14155550100",
                }
            ]
        }
    )

    fromEmail: Email | None = Field(default=None, description="From address.")
    fromName: Name | None = Field(default=None, description="From name.")
    replyTo: Email | None = Field(default=None, description="Reply-To address.")
    smsFrom: Annotated[str, Field(min_length=2, max_length=32), SINGLE_LINE] | None = Field(
        default=None, description="The SMS sender number."
    )


class PasswordReset(BaseModel):
    """Set a member's password with the token of a password-reset email."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "9dGq…", "password": "a long passphrase"}]}
    )

    token: Annotated[str, Field(min_length=10, max_length=200)] = Field(
        description="The token from the reset link."
    )
    password: Annotated[str, Field(min_length=8, max_length=200)] = Field(
        description="The new password (8 to 200 characters)."
    )
