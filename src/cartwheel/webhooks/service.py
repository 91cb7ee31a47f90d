"""Managing webhook subscriptions and reading or replaying their deliveries. Every function
is scoped by store: another store's ids answer exactly like missing ones."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.exceptions import BadRequest, Conflict, NotFound, ValidationFailed
from cartwheel.kit.ids import MAX_ID
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import WebhookDelivery, WebhookSubscription
from cartwheel.models.base import utcnow
from cartwheel.webhooks import guard, repository, schemas, signing
from cartwheel.webhooks.schemas import Delivery, RangeInput, WebhookInput

#: The most deliveries one range replay may queue.
MAX_RANGE_REPLAY = 10_000
DELIVERY_STATUSES = (repository.PENDING, repository.SUCCEEDED, repository.FAILED)


def check_target(url: str, settings: Settings) -> None:
    """Resolve and check a target before it is saved (the delivery re-checks every time).
    Call it outside any transaction: it waits for DNS."""
    try:
        guard.check_target(url, settings.webhook_allow_private)
    except guard.TargetRefused as exc:
        raise ValidationFailed({"target": [exc.message]}) from None


# -- subscriptions -------------------------------------------------------------------------


def create_webhook(session: Session, store_id: int, data: WebhookInput) -> WebhookSubscription:
    assert data.target is not None and data.events is not None
    now = utcnow()
    row = WebhookSubscription(
        store_id=store_id,
        public_id=_new_public_id(session),
        target=data.target,
        secret=data.secret if data.secret is not None else signing.new_secret(),
        events=data.events,
        event_names=data.event_names if data.event_names_given else None,
        status=repository.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_webhooks(
    session: Session, store_id: int, page: PageParams
) -> tuple[list[WebhookSubscription], int]:
    query = repository.subscriptions(store_id).order_by(WebhookSubscription.id)
    return paginate(session, query, page)


def get_webhook(session: Session, store_id: int, webhook_id: str) -> WebhookSubscription:
    # Only a well-formed id reaches the database (a NUL in a URL cannot be bound on PostgreSQL).
    row = (
        repository.get_subscription(session, store_id, webhook_id)
        if _PUBLIC_ID.fullmatch(webhook_id)
        else None
    )
    if row is None:
        raise NotFound("Webhook not found.")
    return row


def update_webhook(
    session: Session, store_id: int, webhook_id: str, data: WebhookInput
) -> WebhookSubscription:
    row = get_webhook(session, store_id, webhook_id)
    events = data.events if data.events is not None else list(row.events)
    event_names = data.event_names if data.event_names_given else row.event_names
    schemas.check_filter(events, event_names)
    if data.target is not None:
        row.target = data.target
    if data.secret is not None:
        row.secret = data.secret
    row.events = events
    row.event_names = event_names
    row.updated_at = utcnow()
    session.flush()
    return row


def delete_webhook(session: Session, store_id: int, webhook_id: str) -> None:
    """Delete the webhook with its queue and history (the database cascades)."""
    session.delete(get_webhook(session, store_id, webhook_id))
    session.flush()


def pause_webhook(session: Session, store_id: int, webhook_id: str) -> WebhookSubscription:
    """Stop sending; deliveries keep queueing and go out in order on resume."""
    row = get_webhook(session, store_id, webhook_id)
    row.status = repository.PAUSED
    row.updated_at = utcnow()
    session.flush()
    return row


def resume_webhook(
    session: Session, store_id: int, webhook_id: str, now: datetime | None = None
) -> WebhookSubscription:
    """Send again, from the oldest queued delivery, now (also re-enables a webhook that was
    disabled after failures)."""
    now = now or utcnow()
    row = get_webhook(session, store_id, webhook_id)
    row.status = repository.ACTIVE
    row.disabled_reason = None
    row.updated_at = now
    head = repository.queue_head(session, row.id)
    if head is not None and (head.next_attempt_at is None or head.next_attempt_at > now):
        head.next_attempt_at = now
    session.flush()
    return row


#: A webhook's public id: ``rh_`` and eleven digits.
_PUBLIC_ID = re.compile(r"rh_[0-9]{11}")


def _new_public_id(session: Session) -> str:
    while True:
        candidate = f"rh_{secrets.randbelow(9 * 10**10) + 10**10}"
        if not repository.public_id_taken(session, candidate):
            return candidate


# -- deliveries ----------------------------------------------------------------------------


def list_deliveries(
    session: Session, store_id: int, webhook_id: str, page: PageParams, status: str | None
) -> tuple[list[Delivery], int]:
    if status is not None and status not in DELIVERY_STATUSES:
        raise BadRequest("The status parameter must be one of pending, succeeded, failed.")
    webhook = get_webhook(session, store_id, webhook_id)
    query = repository.deliveries(store_id, webhook.id, status).order_by(WebhookDelivery.id.desc())
    rows, total = paginate(session, query, page)
    attempts = repository.attempts_of(session, [d.id for d in rows])
    views = [schemas.delivery_view(d, webhook.public_id, attempts.get(d.id, [])) for d in rows]
    return views, total


def get_delivery(session: Session, store_id: int, webhook_id: str, delivery_id: str) -> Delivery:
    webhook, row = _delivery(session, store_id, webhook_id, delivery_id)
    attempts = repository.attempts_of(session, [row.id]).get(row.id, [])
    return schemas.delivery_view(row, webhook.public_id, attempts)


def replay_delivery(session: Session, store_id: int, webhook_id: str, delivery_id: str) -> Delivery:
    """Queue a finished delivery again: same message id and body, behind what is queued."""
    webhook, row = _delivery(session, store_id, webhook_id, delivery_id)
    if row.status == repository.PENDING:
        raise Conflict("This delivery is still pending; it will be sent.")
    replay = _replay(session, [row], utcnow())[0]
    return schemas.delivery_view(replay, webhook.public_id, [])


def replay_range(session: Session, store_id: int, webhook_id: str, span: RangeInput) -> int:
    """Queue again every finished original delivery created in the range, in order."""
    webhook = get_webhook(session, store_id, webhook_id)
    rows = repository.deliveries_in_range(
        session, store_id, webhook.id, span.start, span.end, span.only_failed, MAX_RANGE_REPLAY + 1
    )
    if len(rows) > MAX_RANGE_REPLAY:
        raise BadRequest(
            f"The range holds more than {MAX_RANGE_REPLAY} deliveries; replay a shorter range."
        )
    return len(_replay(session, list(rows), utcnow()))


def _replay(
    session: Session, originals: list[WebhookDelivery], now: datetime
) -> list[WebhookDelivery]:
    if not originals:
        return []
    rows = session.execute(
        insert(WebhookDelivery).returning(WebhookDelivery, sort_by_parameter_order=True),
        [
            {
                "store_id": d.store_id,
                "subscription_id": d.subscription_id,
                "message_id": d.message_id,
                "event_type": d.event_type,
                "body": d.body,
                "status": repository.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "replay_of_id": d.replay_of_id or d.id,
                "created_at": now,
            }
            for d in originals
        ],
    )
    return list(rows.scalars())


def _delivery(
    session: Session, store_id: int, webhook_id: str, delivery_id: str
) -> tuple[WebhookSubscription, WebhookDelivery]:
    webhook = get_webhook(session, store_id, webhook_id)
    row = None
    digits = delivery_id.isascii() and delivery_id.isdigit() and len(delivery_id) <= 10
    if digits and 0 < int(delivery_id) <= MAX_ID:
        row = repository.get_delivery(session, store_id, webhook.id, int(delivery_id))
    if row is None:
        raise NotFound("Delivery not found.")
    return webhook, row


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """A store's webhook deliveries queued since a moment: how many succeeded, failed or
    wait, and the mean latency of their last attempts (milliseconds; None: no attempt)."""

    succeeded: int
    failed: int
    pending: int
    mean_latency_ms: float | None

    @property
    def success_rate(self) -> float | None:
        """Succeeded over finished (succeeded + failed); None when none finished."""
        finished = self.succeeded + self.failed
        return self.succeeded / finished if finished else None


def delivery_summary(session: Session, store_id: int, since: datetime) -> DeliverySummary:
    counts, latency = repository.delivery_counts(session, store_id, since)
    return DeliverySummary(
        counts.get(repository.SUCCEEDED, 0),
        counts.get(repository.FAILED, 0),
        counts.get(repository.PENDING, 0),
        latency,
    )
