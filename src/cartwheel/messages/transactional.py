"""The transactional messages the documents promise, queued from the outbox (a handler of
the worker's durable queue, ``worker/queue.py``: retried on its own, dead-lettered, never
undoing another handler's work):

- ``member_password_reset`` (a member created without a password): a single-use, expiring
  reset token and the email with its link;
- ``order_created`` / ``order_updated`` where the order is completed and has digital lines:
  the digital-content email, once per order;
- ``order_notify_customer`` (an order update with ``notifyCustomer``): the order status
  email, once per update.

Each message's idempotency key names the outbox row or the order, so a replayed handler
queues nothing twice."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cartwheel.config import get_settings
from cartwheel.messages import defaults
from cartwheel.messages.service import enqueue_transactional
from cartwheel.models import Member, MemberPasswordReset, Order, OrderItem, OutboxMessage
from cartwheel.models.base import utcnow

MEMBER_PASSWORD_RESET = "member_password_reset"
ORDER_CREATED = "order_created"
ORDER_UPDATED = "order_updated"
ORDER_NOTIFY_CUSTOMER = "order_notify_customer"
TOPICS = frozenset({MEMBER_PASSWORD_RESET, ORDER_CREATED, ORDER_UPDATED, ORDER_NOTIFY_CUSTOMER})


def wants(_session: Session, message: Any) -> bool:
    return message.topic in TOPICS


def consume(session: Session, message: OutboxMessage) -> None:
    payload = message.payload or {}
    if message.topic == MEMBER_PASSWORD_RESET:
        _password_reset(session, message, int(payload["member_id"]))
    elif message.topic == ORDER_NOTIFY_CUSTOMER:
        _order_status(session, message, int(payload["order_id"]), payload.get("status"))
    elif payload.get("status") == "completed":
        _digital_content(session, message.store_id, int(payload["id"]))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_reset(session: Session, message: OutboxMessage, member_id: int) -> None:
    member = session.get(Member, member_id)
    if member is None or member.store_id != message.store_id or member.password_hash:
        return  # gone, or it has a password by now
    settings = get_settings()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(hours=settings.password_reset_hours)
    session.add(
        MemberPasswordReset(
            store_id=member.store_id,
            member_id=member.id,
            token_hash=token_digest(token),
            expires_at=expires,
            created_at=now,
        )
    )
    enqueue_transactional(
        session,
        member.store_id,
        defaults.MEMBER_PASSWORD_RESET,
        member.contact_id,
        idempotency_key=f"{defaults.MEMBER_PASSWORD_RESET}:{message.id}",
        to_address=member.email,
        data=None,
        extra={
            "member_id": member.id,
            # The URL is made when the email is rendered, from the sender's public URL.
            "reset_token": token,
            "reset_expires_at": expires.strftime("%Y-%m-%d %H:%M UTC"),
        },
    )


def _order_status(
    session: Session, message: OutboxMessage, order_id: int, status: str | None
) -> None:
    order = session.get(Order, order_id)
    if order is None or order.store_id != message.store_id or order.deleted_at is not None:
        return
    enqueue_transactional(
        session,
        order.store_id,
        defaults.ORDER_STATUS,
        order.contact_id,
        idempotency_key=f"{defaults.ORDER_STATUS}:{message.id}",
        to_address=order.customer_email,
        order_id=order.id,
        # The status the customer is told of is the one set with notifyCustomer, even if
        # another update came before the email is rendered.
        extra={"order_status": status} if status else None,
    )


def _digital_content(session: Session, store_id: int, order_id: int) -> None:
    order = session.get(Order, order_id)
    if order is None or order.store_id != store_id or order.deleted_at is not None:
        return
    digital = session.scalar(
        select(OrderItem.id)
        .where(OrderItem.order_id == order.id, OrderItem.type == "digital")
        .limit(1)
    )
    if digital is None:
        return
    # Once per order: completing it again, or another update, finds this key taken.
    enqueue_transactional(
        session,
        store_id,
        defaults.ORDER_DIGITAL_CONTENT,
        order.contact_id,
        idempotency_key=f"{defaults.ORDER_DIGITAL_CONTENT}:{order.id}",
        to_address=order.customer_email,
        order_id=order.id,
    )


class ResetRefused(Exception):
    pass


def reset_password(session: Session, token: str, password_hash: str) -> Member:
    """Set a member's password with a reset token: single use, before it expires; the
    member's other open tokens are spent with it."""
    now = utcnow()
    row = session.scalar(
        select(MemberPasswordReset).where(MemberPasswordReset.token_hash == token_digest(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise ResetRefused("The link is invalid, was already used, or has expired.")
    member = session.get(Member, row.member_id)
    if member is None:
        raise ResetRefused("The link is invalid, was already used, or has expired.")
    spent = session.execute(
        update(MemberPasswordReset)
        .where(
            MemberPasswordReset.id == row.id,
            MemberPasswordReset.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if not spent.rowcount:  # type: ignore[attr-defined]
        raise ResetRefused("The link is invalid, was already used, or has expired.")
    session.execute(
        update(MemberPasswordReset)
        .where(MemberPasswordReset.member_id == member.id, MemberPasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    member.password_hash = password_hash
    member.updated_at = now
    session.flush()
    return member
