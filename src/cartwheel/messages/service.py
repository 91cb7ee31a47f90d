"""Queueing messages: the one entry point every sender (transactional messages, campaigns,
flows) goes through. A message is a row before anything is sent; the send task
(:mod:`cartwheel.messages.sending`) renders it, checks consent and suppression, and sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cartwheel.exceptions import NotFound, ValidationFailed
from cartwheel.messages import consent, defaults
from cartwheel.models import Message, MessageTemplate
from cartwheel.models.base import utcnow

EMAIL = "email"
SMS = "sms"
CHANNELS = (EMAIL, SMS)
MARKETING = "marketing"
TRANSACTIONAL = "transactional"
TOPICS = (MARKETING, TRANSACTIONAL)

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
BOUNCED = "bounced"
#: Not sent, by rule: no consent, a suppressed address, no address at all.
SKIPPED = "skipped"
STATUSES = (QUEUED, SENDING, SENT, FAILED, BOUNCED, SKIPPED)

#: The longest idempotency key (the column's length).
MAX_KEY = 200


def enqueue_message(
    session: Session,
    store_id: int,
    template_id: int,
    contact_id: int,
    *,
    idempotency_key: str,
    event_id: uuid.UUID | str | None = None,
    order_id: int | None = None,
    cart_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    topic: str | None = None,
    send_at: datetime | None = None,
) -> Message:
    """Queue one message from the store's template ``template_id`` to ``contact_id``, in the
    caller's transaction (it commits or rolls back with the caller's work; only flushed).

    - ``idempotency_key``: unique per store, at most 200 characters (flows: one per run and
      step, e.g. ``"flow:12:run:345:step:2"``). Queueing again with a key already used
      returns the message queued first and changes nothing, whatever its status.
    - ``event_id``, ``order_id``, ``cart_id``: the triggering event (the event log's UUID) and
      the store records (Cartwheel's row ids) the template sees as ``event``, ``order`` and
      ``cart``; read when the message is rendered, at send time. ``data``: more variables
      (JSON values), seen by the template as ``data`` (``{{ data.coupon }}``).
    - ``topic``: ``"marketing"`` or ``"transactional"``; default: the template's. Marketing
      needs the contact's consent for the channel; both skip a suppressed address.
    - ``send_at``: not before this time (default: now).

    The channel (email or SMS) is the template's. Raises :class:`NotFound` when the template
    is not the store's, :class:`ValidationFailed` for a bad key or topic. The contact is
    looked up at send time: one deleted meanwhile makes the message ``skipped``.
    """
    template = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.store_id == store_id, MessageTemplate.id == template_id
        )
    )
    if template is None:
        raise NotFound("Template not found.")
    return _enqueue(
        session,
        store_id,
        contact_id,
        channel=template.channel,
        topic=topic or template.topic,
        template_id=template.id,
        template_key=None,
        idempotency_key=idempotency_key,
        context=_context(event_id, order_id, cart_id, data),
        send_at=send_at,
    )


def enqueue_transactional(
    session: Session,
    store_id: int,
    key: str,
    contact_id: int | None,
    *,
    idempotency_key: str,
    to_address: str | None = None,
    order_id: int | None = None,
    data: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Message:
    """Queue one of Cartwheel's transactional messages (``key`` in
    :data:`cartwheel.messages.defaults.DEFAULTS`): the store's override of it when it has
    one, else the default. ``to_address`` overrides the contact's address; ``extra`` is
    the message's own context (``member_id``, ``reset_token``, ``order_status``…)."""
    default = defaults.DEFAULTS[key]
    override = session.scalar(
        select(MessageTemplate.id).where(
            MessageTemplate.store_id == store_id, MessageTemplate.key == key
        )
    )
    return _enqueue(
        session,
        store_id,
        contact_id,
        channel=default.channel,
        topic=TRANSACTIONAL,
        template_id=override,
        template_key=key,
        idempotency_key=idempotency_key,
        context={**_context(None, order_id, None, data), **(extra or {})},
        to_address=to_address,
    )


def _context(
    event_id: uuid.UUID | str | None,
    order_id: int | None,
    cart_id: int | None,
    data: Mapping[str, Any] | None,
) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if event_id is not None:
        context["event_id"] = str(event_id)
    if order_id is not None:
        context["order_id"] = order_id
    if cart_id is not None:
        context["cart_id"] = cart_id
    if data:
        context["data"] = dict(data)
    return context


def _enqueue(
    session: Session,
    store_id: int,
    contact_id: int | None,
    *,
    channel: str,
    topic: str,
    template_id: int | None,
    template_key: str | None,
    idempotency_key: str,
    context: dict[str, Any],
    to_address: str | None = None,
    campaign_id: int | None = None,
    send_at: datetime | None = None,
) -> Message:
    if not idempotency_key or len(idempotency_key) > MAX_KEY:
        raise ValidationFailed(
            {"idempotencyKey": [f"Give an idempotency key of 1 to {MAX_KEY} characters."]}
        )
    if topic not in TOPICS:
        raise ValidationFailed({"topic": ["The topic is marketing or transactional."]})
    if to_address is not None:
        to_address = consent.normalize_address(channel, to_address)
    now = utcnow()
    values = {
        "store_id": store_id,
        "contact_id": contact_id,
        "template_id": template_id,
        "template_key": template_key,
        "campaign_id": campaign_id,
        "channel": channel,
        "topic": topic,
        "idempotency_key": idempotency_key,
        "status": QUEUED,
        "to_address": to_address,
        "context": context,
        "attempts": 0,
        "opens": 0,
        "clicks": 0,
        "next_attempt_at": send_at or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # ON CONFLICT DO NOTHING: a second caller with the same key (a replayed flow step, a
    # concurrent worker) gets the first message, and no unique-violation aborts its
    # transaction.
    session.execute(
        insert(Message)
        .values(values)
        .on_conflict_do_nothing(index_elements=["store_id", "idempotency_key"])
    )
    message = session.scalar(
        select(Message).where(
            Message.store_id == store_id, Message.idempotency_key == idempotency_key
        )
    )
    assert message is not None
    return message
