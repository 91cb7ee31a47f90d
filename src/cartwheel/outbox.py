"""Recording domain changes for later consumers (webhooks, automations).

Call :func:`emit` inside the transaction that makes the change: the message commits or
rolls back with it, so a consumer never sees a change that did not happen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from cartwheel.models import OutboxMessage
from cartwheel.models.base import utcnow

# Topics are the webhook event names. The store-data domains emit the document's seven
# ("order_created", "order_updated", "product_created", "product_updated", "form_submitted",
# "contact_updated", "booking_created") with the record, in its API shape, as payload.
# The core emits these, with ids as payload ({"contact_id": …}).
CONTACT_CREATED = "contact_created"
CONTACT_UPDATED = "contact_updated"
CONTACT_MERGED = "contact_merged"
CONTACT_DELETED = "contact_deleted"
# An existing contact's profile changed through an event (the resolver's patch): internal,
# not a webhook topic ({"contact_id": …}); segments re-check the contact on it.
CONTACT_PATCHED = "contact_patched"
# Segment membership changes, emitted in the transaction that changes the membership,
# with ids as payload ({"segment_id": …, "contact_id": …}).
SEGMENT_ENTERED = "segment_entered"
SEGMENT_EXITED = "segment_exited"
# Flow run state changes, emitted with the change ({"flow_id", "run_id", "version",
# "contact_id", "key", "state", "reason"}).
FLOW_RUN_STARTED = "flow_run_started"
FLOW_RUN_FINISHED = "flow_run_finished"


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
