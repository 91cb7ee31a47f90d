"""Webhook queries. Every query an API caller can reach is scoped by store; the delivery
queue's claim queries run across stores (the worker serves every store)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from cartwheel.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"

# Inlined in the queue queries, so PostgreSQL matches the partial index on pending rows
# even with a generic (prepared) plan.
_PENDING_SQL: ColumnElement[str] = literal_column("'pending'")

ACTIVE = "active"
PAUSED = "paused"
DISABLED = "disabled"


# Subscriptions


def subscriptions(store_id: int) -> Select[Any]:
    return select(WebhookSubscription).where(WebhookSubscription.store_id == store_id)


def get_subscription(session: Session, store_id: int, public_id: str) -> WebhookSubscription | None:
    return session.execute(
        subscriptions(store_id).where(WebhookSubscription.public_id == public_id)
    ).scalar_one_or_none()


def public_id_taken(session: Session, public_id: str) -> bool:
    found = session.execute(
        select(WebhookSubscription.id).where(WebhookSubscription.public_id == public_id)
    ).first()
    return found is not None


def store_subscriptions(session: Session, store_id: int) -> Sequence[WebhookSubscription]:
    return session.execute(subscriptions(store_id).order_by(WebhookSubscription.id)).scalars().all()


# Deliveries, as the API shows them


def deliveries(store_id: int, subscription_id: int, status: str | None) -> Select[Any]:
    query = select(WebhookDelivery).where(
        WebhookDelivery.store_id == store_id, WebhookDelivery.subscription_id == subscription_id
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return query


def get_delivery(
    session: Session, store_id: int, subscription_id: int, delivery_id: int
) -> WebhookDelivery | None:
    return session.execute(
        deliveries(store_id, subscription_id, None).where(WebhookDelivery.id == delivery_id)
    ).scalar_one_or_none()


def attempts_of(session: Session, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    if not delivery_ids:
        return {}
    rows = session.execute(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.id)
    ).scalars()
    out: dict[int, list[WebhookAttempt]] = {}
    for attempt in rows:
        out.setdefault(attempt.delivery_id, []).append(attempt)
    return out


def deliveries_in_range(
    session: Session,
    store_id: int,
    subscription_id: int,
    start: datetime,
    end: datetime,
    only_failed: bool,
    limit: int,
) -> Sequence[WebhookDelivery]:
    """Finished, original (not replayed) deliveries created in ``[start, end]``, in order."""
    statuses = [FAILED] if only_failed else [FAILED, SUCCEEDED]
    query = (
        deliveries(store_id, subscription_id, None)
        .where(
            WebhookDelivery.created_at >= start,
            WebhookDelivery.created_at <= end,
            WebhookDelivery.status.in_(statuses),
            WebhookDelivery.replay_of_id.is_(None),
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return session.execute(query).scalars().all()


# The delivery queue


def queue_head(session: Session, subscription_id: int) -> WebhookDelivery | None:
    return session.execute(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == _PENDING_SQL,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    ).scalar_one_or_none()


def due_heads(
    session: Session, now: datetime, limit: int, skip_locked: bool
) -> Sequence[tuple[WebhookDelivery, str, str]]:
    """The queue head of every active subscription, if it is due and not leased, with the
    subscription's target and secret; locked (PostgreSQL: rows another worker is claiming
    are skipped)."""
    head_id = (
        select(func.min(WebhookDelivery.id))
        .where(
            WebhookDelivery.subscription_id == WebhookSubscription.id,
            WebhookDelivery.status == _PENDING_SQL,
        )
        .correlate(WebhookSubscription)
        .scalar_subquery()
    )
    heads = select(head_id).where(WebhookSubscription.status == ACTIVE)
    query = (
        select(WebhookDelivery, WebhookSubscription.target, WebhookSubscription.secret)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.id.in_(heads),
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    return [(row[0], row[1], row[2]) for row in session.execute(query).all()]


def followers(session: Session, head: WebhookDelivery, limit: int) -> Sequence[WebhookDelivery]:
    """The pending deliveries queued right behind ``head``, in order (not locked: only the
    worker holding the head claims them, and :func:`lease` re-checks each one)."""
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == head.subscription_id,
            WebhookDelivery.status == _PENDING_SQL,
            WebhookDelivery.id > head.id,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return session.execute(query).scalars().all()


def lease(session: Session, ids: list[int], until: datetime, token: str, now: datetime) -> set[int]:
    """Lease the deliveries that are still pending and not leased; returns their ids."""
    leased = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_(ids),
            WebhookDelivery.status == _PENDING_SQL,
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now),
        )
        .values(claimed_until=until, lease=token)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return set(leased.scalars())


def release(session: Session, ids: list[int], token: str) -> None:
    """Give back leased deliveries that were not sent (only while the lease is still ours)."""
    if ids:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.lease == token)
            .values(claimed_until=None, lease=None)
        )


def locked_deliveries(session: Session, ids: list[int]) -> dict[int, WebhookDelivery]:
    rows = session.execute(
        select(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalars()
    return {row.id: row for row in rows}


def delivery_counts(
    session: Session, store_id: int, since: datetime
) -> tuple[dict[str, int], float | None]:
    """Deliveries of the store's webhooks queued since ``since``, by status, and the mean
    latency of their last attempts (each webhook's rows by its (subscription, created_at)
    index)."""
    own = select(WebhookSubscription.id).where(WebhookSubscription.store_id == store_id)
    rows = session.execute(
        select(
            WebhookDelivery.status,
            func.count(),
            func.count(WebhookDelivery.last_latency_ms),
            func.sum(WebhookDelivery.last_latency_ms),
        )
        .where(
            WebhookDelivery.subscription_id.in_(own),
            WebhookDelivery.created_at >= since,
        )
        .group_by(WebhookDelivery.status)
    ).all()
    counts = {status: int(n) for status, n, _, _ in rows}
    attempted = sum(int(timed) for _, _, timed, _ in rows)
    spent = sum(float(total or 0) for _, _, _, total in rows)
    return counts, spent / attempted if attempted else None
