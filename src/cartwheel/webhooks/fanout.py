"""Fan-out: turning a domain change (outbox message) or a stored event into one queued
delivery per matching subscription of the same store.

Runs inside the worker's transaction, so a delivery is queued exactly when the message or
event is marked processed. The body is rendered once, here: every retry and replay sends
the same bytes under the same ``webhook-id``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cartwheel.contacts import service as contacts
from cartwheel.events.schemas import event_view
from cartwheel.exceptions import NotFound
from cartwheel.models import Event, OutboxMessage, WebhookDelivery
from cartwheel.models.base import utcnow, uuid7
from cartwheel.outbox import (
    CONTACT_CREATED,
    CONTACT_DELETED,
    CONTACT_MERGED,
    CONTACT_UPDATED,
    FLOW_RUN_FINISHED,
    FLOW_RUN_STARTED,
    SEGMENT_ENTERED,
    SEGMENT_EXITED,
)
from cartwheel.webhooks import event_types, repository

_CACHE_KEY = "webhooks.subscriptions"


@dataclass(frozen=True, slots=True)
class Listener:
    """What fan-out needs of a subscription (a plain snapshot, not an ORM row)."""

    id: int
    events: frozenset[str]
    event_names: frozenset[str] | None

    def wants(self, event_type: str, event_name: str | None = None) -> bool:
        if event_type not in self.events:
            return False
        return event_name is None or self.event_names is None or event_name in self.event_names


def listeners(session: Session, store_id: int) -> list[Listener]:
    """The store's subscriptions that take new deliveries, read once per worker transaction
    (a batch of messages or events): stores without webhooks cost one query per batch, not
    one per event.

    Active and paused subscriptions queue (a pause loses nothing); a disabled one does not:
    its receiver failed for about a day, and queueing for it would grow without bound."""
    cache: dict[int, list[Listener]] = session.info.setdefault(_CACHE_KEY, {})
    found = cache.get(store_id)
    if found is None:
        found = [
            Listener(
                s.id,
                frozenset(s.events or ()),
                frozenset(s.event_names) if s.event_names is not None else None,
            )
            for s in repository.store_subscriptions(session, store_id)
            if s.status != repository.DISABLED
        ]
        cache[store_id] = found
    return found


def wants_message(session: Session, message: Any) -> bool:
    """Whether :func:`fan_out_message` has a subscription to queue for (asked with the
    message's header, before it is loaded)."""
    if message.topic not in event_types.OUTBOX_TOPICS:
        return False
    return any(s.wants(message.topic) for s in listeners(session, message.store_id))


def fan_out_message(session: Session, message: OutboxMessage) -> None:
    """Outbox consumer: queue the change for the store's subscriptions to its topic."""
    if message.topic not in event_types.OUTBOX_TOPICS:
        return
    targets = [s for s in listeners(session, message.store_id) if s.wants(message.topic)]
    if not targets:
        return
    payload = render(session, message.store_id, message.topic, message.payload or {})
    enqueue(session, message.store_id, targets, message.topic, payload)


def wants_event(session: Session, event: Any) -> bool:
    """Whether :func:`fan_out_event` has a subscription to queue for (asked with the event's
    header, before the event is loaded)."""
    if event.silent:
        return False
    return any(
        s.wants(event_types.EVENT_TRACKED, event.name) for s in listeners(session, event.store_id)
    )


def fan_out_event(session: Session, event: Event) -> None:
    """Event processor: queue ``event_tracked`` for every stored event that is not silent
    (silent events trigger no automation)."""
    if event.silent:
        return
    targets = [
        s
        for s in listeners(session, event.store_id)
        if s.wants(event_types.EVENT_TRACKED, event.name)
    ]
    if targets:
        payload = event_view(event).model_dump(mode="json")
        enqueue(session, event.store_id, targets, event_types.EVENT_TRACKED, payload)


def render(session: Session, store_id: int, topic: str, payload: dict[str, Any]) -> Any:
    """The body for a message. The store-data domains put the record, in its API shape, in
    the payload; the core's contact messages carry only ids, so the contact is read here.
    Segment and flow run messages carry ids too and are sent as they are, named as the API
    names them."""
    if topic in (SEGMENT_ENTERED, SEGMENT_EXITED, FLOW_RUN_STARTED, FLOW_RUN_FINISHED):
        return {_camel(key): value for key, value in payload.items()}
    if topic not in (CONTACT_CREATED, CONTACT_UPDATED, CONTACT_MERGED, CONTACT_DELETED):
        return payload
    if set(payload) - {"contact_id", "merged_contact_id"}:
        return payload  # already a full record
    contact_id = payload.get("contact_id")
    if not isinstance(contact_id, int):
        return payload
    if topic == CONTACT_DELETED:
        return {"id": contact_id}
    contact = _contact(session, store_id, contact_id)
    if topic == CONTACT_MERGED:
        return {"contact": contact, "mergedContactId": payload.get("merged_contact_id")}
    return contact


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _contact(session: Session, store_id: int, contact_id: int) -> dict[str, Any]:
    try:
        row = contacts.get_contact(session, store_id, contact_id)
    except NotFound:
        # Deleted before the message was handled: say which one, there is nothing else left.
        return {"id": contact_id}
    return contacts.views(session, [row])[0].model_dump(mode="json")


def enqueue(
    session: Session,
    store_id: int,
    targets: list[Listener],
    event_type: str,
    payload: Any,
    now: datetime | None = None,
    message_id: str | None = None,
) -> None:
    now = now or utcnow()
    body = dumps(payload)
    # One message id for the change, shared by every subscription that receives it (a
    # caller that may replay passes its own, stable one: a flow step's run and visit).
    message_id = message_id or "msg_" + uuid7().hex
    session.execute(
        insert(WebhookDelivery),
        [
            {
                "store_id": store_id,
                "subscription_id": target.id,
                "message_id": message_id,
                "event_type": event_type,
                "body": body,
                "status": repository.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for target in targets
        ],
    )


def dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
