"""Where ``send_email`` and ``send_sms`` hand their message over: the messages channel.

A flow step never talks SMTP or an SMS provider; it queues one message row in the step's
transaction, keyed by run and step visit, so a step replayed after a crash queues nothing
new and the messages queue sends what was queued once. The messages channel renders it,
checks consent and suppression, and sends it (docs/messaging.md); there is no other
channel, in production or in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.messages import service as messages
from cartwheel.models import Cart, MessageTemplate, Order


@dataclass(frozen=True, slots=True)
class Queued:
    """What a send step did: the message it queued (or why it queued none)."""

    message_id: str | None
    skipped: str | None = None


class MessagesChannel:
    """The messages channel (:mod:`cartwheel.messages.service`): one ``messages`` row per
    send, keyed per store by the run and step visit; the trigger's event, order and cart
    are the template's ``event``, ``order`` and ``cart``, and the flow's own values are
    ``data.flow``."""

    def channel_of(self, session: Session, store_id: int, template_id: int) -> str | None:
        found: str | None = session.scalar(
            select(MessageTemplate.channel).where(
                MessageTemplate.store_id == store_id, MessageTemplate.id == template_id
            )
        )
        return found

    def send(
        self,
        session: Session,
        *,
        store_id: int,
        template_id: int,
        contact_id: int,
        context: dict[str, Any],
        idempotency_key: str,
    ) -> Queued:
        event = context.get("event") or {}
        entity = context.get("entity") or {}
        record = context.get("record") or {}
        order_id: int | None = None
        cart_id: int | None = None
        external = entity.get("id") if isinstance(entity, dict) else None
        category = event.get("category") if isinstance(event, dict) else None
        if isinstance(record.get("id"), int) and context.get("source") == "record":
            order_id = record["id"]
        elif isinstance(external, str) and category == "order":
            order_id = _row_id(session, Order, store_id, external)
        elif isinstance(external, str) and category == "cart":
            cart_id = _row_id(session, Cart, store_id, external)
        message = messages.enqueue_message(
            session,
            store_id,
            template_id,
            contact_id,
            idempotency_key=idempotency_key,
            event_id=event.get("id") if isinstance(event, dict) else None,
            order_id=order_id,
            cart_id=cart_id,
            data={"flow": context.get("flow"), "key": context.get("key")},
        )
        return Queued(str(message.id))


def _row_id(session: Session, model: Any, store_id: int, external_id: str) -> int | None:
    found: int | None = session.scalar(
        select(model.id).where(model.store_id == store_id, model.external_id == external_id)
    )
    return found


_CHANNEL = MessagesChannel()


def sender() -> MessagesChannel:
    """The messages channel the engine queues its sends on."""
    return _CHANNEL
