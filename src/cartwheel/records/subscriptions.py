"""Subscription events keep one record per subscription id of the store, belonging to the
contact of its latest event (so a contact merge never splits it). The action sets the
status:

=================  ==============================================================
created            ``active`` (or the entity's status, e.g. ``pending``); started
renewed            ``active``; ``renewed_at`` set
cancelled          ``cancelled``; ``cancelled_at`` set
expired            ``expired``; ``ended_at`` set
renewal_failed     ``past_due`` (a payment is owed; the store may still retry)
deleted            ``deleted``; ``ended_at`` set if it had not ended
updated and others the entity's status when it names one, else unchanged
=================  ==============================================================

An event older than the subscription's last one is stale and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cartwheel.models import CustomerSubscription, Event
from cartwheel.orders import repository as orders
from cartwheel.records.values import (
    entity_id,
    entity_of,
    integer,
    is_stale,
    line_items,
    moment,
    number,
    text,
)

# The platform's status words, mapped to Cartwheel's subscription statuses.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(("active", "trialing", "trial", "renewed"), "active"),
    **dict.fromkeys(("pending", "incomplete"), "pending"),
    **dict.fromkeys(("paused", "on-hold", "on_hold", "suspended"), "paused"),
    **dict.fromkeys(("past_due", "unpaid", "renewal_failed", "failed"), "past_due"),
    **dict.fromkeys(("cancelled", "canceled", "pending-cancel"), "cancelled"),
    **dict.fromkeys(("expired", "ended"), "expired"),
    "deleted": "deleted",
}
_ACTION_STATUS = {
    "renewed": "active",
    "cancelled": "cancelled",
    "expired": "expired",
    "renewal_failed": "past_due",
    "deleted": "deleted",
}


def handle(session: Session, event: Event) -> None:
    external_id = entity_id(event)
    if external_id is None:
        return
    entity = entity_of(event)
    subscription = orders.subscription_by_external_id(session, event.store_id, external_id)
    if subscription is not None and is_stale(event, subscription.updated_at):
        return
    if subscription is None:
        subscription = CustomerSubscription(
            store_id=event.store_id,
            external_id=external_id,
            status="active",
            items=[],
            created_at=event.occurred_at,
        )
        session.add(subscription)
    if event.contact_id is not None:
        subscription.contact_id = event.contact_id
    for column, value in _values(entity).items():
        setattr(subscription, column, value)
    _apply_action(subscription, event.action or "", event.occurred_at, entity)
    subscription.updated_at = max(subscription.updated_at or event.occurred_at, event.occurred_at)
    session.flush()


def _values(entity: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, key, limit in (
        ("url", "url", 2000),
        ("plan", "plan", 300),
        ("plan_id", "plan_id", 300),
        ("interval", "interval", 20),
    ):
        value = text(entity.get(key), limit)
        if value:
            values[column] = value
    currency = text(entity.get("currency"), 8)
    if currency:
        values["currency"] = currency.upper()
    amount = number(entity.get("amount"))
    if amount is not None:
        values["amount"] = amount
    count = integer(entity.get("interval_count"))
    if count is not None:
        values["interval_count"] = count
    if isinstance(entity.get("items"), list):
        values["items"] = line_items(entity["items"])
    next_payment = moment(entity.get("next_payment_at"))
    if next_payment is not None:
        values["next_payment_at"] = next_payment
    started = moment(entity.get("created_at"))
    if started is not None:
        values["started_at"] = started
    return values


def _apply_action(
    subscription: CustomerSubscription, action: str, at: datetime, entity: dict[str, Any]
) -> None:
    raw = (text(entity.get("status"), 50) or "").lower()
    if raw:
        subscription.platform_status = raw
    status = _ACTION_STATUS.get(action) or STATUS_WORDS.get(raw)
    if status is not None:
        subscription.status = status
    if subscription.started_at is None and action in ("created", "renewed"):
        subscription.started_at = at
    if action == "renewed":
        subscription.renewed_at = at
    elif action == "cancelled":
        subscription.cancelled_at = subscription.cancelled_at or at
    elif action in ("expired", "deleted"):
        subscription.ended_at = subscription.ended_at or at
