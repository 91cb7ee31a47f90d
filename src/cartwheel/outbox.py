"""Recording domain changes for later consumers (webhooks, automations).

Call :func:`emit` inside the transaction that makes the change: the message commits or
rolls back with it, so a consumer never sees a change that did not happen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from cartwheel.models import OutboxMessage
from cartwheel.models.base import utcnow

# Topics emitted by the core. Domains add their own ("order.created", …).
CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
CONTACT_MERGED = "contact.merged"
CONTACT_DELETED = "contact.deleted"


def emit(bind: Session | Connection, store_id: int, topic: str, payload: dict[str, Any]) -> None:
    emit_many(bind, [(store_id, topic, payload)])


def emit_many(bind: Session | Connection, messages: list[tuple[int, str, dict[str, Any]]]) -> None:
    if not messages:
        return
    now = utcnow()
    rows = [
        {"store_id": store_id, "topic": topic, "payload": payload, "created_at": now}
        for store_id, topic, payload in messages
    ]
    bind.execute(insert(OutboxMessage), rows)
