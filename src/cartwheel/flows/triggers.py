"""The flow entries of the worker registry: events and domain changes start runs, and wake
the runs that wait for them, in the transaction that processes them.

- **Events** (:meth:`Flows.process_event`): only for stores with flows, only for events a
  published version mentions (its trigger, an ``exitOn``, a ``wait_for_event``), asked with
  the event's header before it is loaded. ``silent`` events are never loaded: they start,
  advance and end nothing. The contact's active runs of those flows are locked and
  advanced (an exit or the awaited event is read from the log), then live flows whose
  trigger matches start a run.
- **Domain changes** (:meth:`Flows.consume_message`): ``segment_entered`` /
  ``segment_exited`` and ``order_created`` for an order made through the store data API.

A paused flow starts nothing and its runs are not advanced; resuming makes them due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.events.schemas import event_view
from cartwheel.flows import engine, matching, repository
from cartwheel.flows.definition import Definition, Trigger, mentions
from cartwheel.models import Event, Flow, FlowRun, Order, OutboxMessage
from cartwheel.models.base import utcnow
from cartwheel.outbox import SEGMENT_ENTERED, SEGMENT_EXITED

Clock = Callable[[], datetime]
ORDER_CREATED = "order_created"
TOPICS = frozenset({SEGMENT_ENTERED, SEGMENT_EXITED, ORDER_CREATED})
_CACHE = "cartwheel.flows.live"


def flows_of(session: Session, store_id: int) -> list[Flow]:
    """The store's published, not deleted flows (live or paused), read once per pass."""
    cache: dict[int, list[Flow]] = session.info.setdefault(_CACHE, {})
    if store_id not in cache:
        cache[store_id] = repository.published(session, store_id)
    return cache[store_id]


def mentions_event(found: dict[str, Any], name: str, category: str | None, action: Any) -> bool:
    """Whether mentions ``found`` include events like this one (``action`` ``...``: not
    known yet)."""
    if name in found.get("names", ()):
        return True
    for kind_category, kind_action in found.get("kinds", ()):
        if kind_category == category and (
            kind_action is None or action is ... or kind_action == action
        ):
            return True
    return False


def trigger_of(event: Event) -> dict[str, Any]:
    view = event_view(event).model_dump(mode="json")
    return {"source": "event", "event": view, "entity": event.entity, "record": None}


def key_of(trigger: Trigger, event: dict[str, Any] | None, entity: Any, record: Any) -> str:
    if trigger.key is None:
        return ""
    value = matching.scalar(matching.resolve(trigger.key, event, entity, record))
    return (value or "")[:300]


class Flows:
    """The event processor and outbox consumer, with an injectable clock."""

    def __init__(self, clock: Clock = utcnow) -> None:
        self.clock = clock

    # -- events --------------------------------------------------------------------------

    def wants_event(self, session: Session, header: Any) -> bool:
        if header.silent:
            return False
        return any(
            mentions_event(f.mentions or {}, header.name, header.category, ...)
            for f in flows_of(session, header.store_id)
        )

    def process_event(self, session: Session, event: Event) -> None:
        if event.silent or event.contact_id is None:
            return
        flows = [
            f
            for f in flows_of(session, event.store_id)
            if mentions_event(f.mentions or {}, event.name, event.category, event.action)
        ]
        live = [f for f in flows if f.state == "live"]
        if not live:
            return
        now = self.clock()
        self._wake(session, live, event, now)
        context: dict[str, Any] | None = None
        for flow in live:
            assert flow.version is not None
            definition = engine.definition_of(session, flow.id, flow.version)
            trigger = _matching_trigger(session, definition, event, now)
            if trigger is None:
                continue
            context = context or trigger_of(event)
            key = key_of(trigger, {"properties": event.properties}, event.entity, event.entity)
            begin = engine.Start(event.contact_id, key, event.occurred_at, context)
            engine.start(session, flow, definition, begin, now)

    def _wake(self, session: Session, flows: list[Flow], event: Event, now: datetime) -> None:
        """Advance the contact's active runs whose version mentions this event."""
        by_id = {f.id: f for f in flows}
        query = (
            select(FlowRun)
            .where(
                FlowRun.contact_id == event.contact_id,
                FlowRun.flow_id.in_(list(by_id)),
                FlowRun.state == engine.ACTIVE,
                FlowRun.test.is_(False),
            )
            .order_by(FlowRun.id)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        for run in session.scalars(query):
            definition = engine.definition_of(session, run.flow_id, run.version)
            found = mentions(definition).as_json()
            if mentions_event(found, event.name, event.category, event.action):
                engine.advance(session, run, definition, now)

    # -- domain changes ------------------------------------------------------------------

    def wants_message(self, session: Session, header: Any) -> bool:
        if header.topic not in TOPICS:
            return False
        return any(f.state == "live" for f in flows_of(session, header.store_id))

    def consume_message(self, session: Session, message: OutboxMessage) -> None:
        if message.topic not in TOPICS:
            return
        live = [f for f in flows_of(session, message.store_id) if f.state == "live"]
        if not live:
            return
        payload = message.payload or {}
        now = self.clock()
        if message.topic == ORDER_CREATED:
            contact_id = payload.get("contactId")
            entity = _order_entity(session, message.store_id, payload)
            context = {"source": "record", "event": None, "entity": entity, "record": payload}
        else:
            contact_id = payload.get("contact_id")
            segment = {"id": payload.get("segment_id")}
            context = {"source": message.topic, "event": None, "entity": None, "segment": segment}
        if not isinstance(contact_id, int) or isinstance(contact_id, bool) or contact_id <= 0:
            return
        for flow in live:
            assert flow.version is not None
            definition = engine.definition_of(session, flow.id, flow.version)
            for trigger in definition.triggers:
                if _message_matches(trigger, message.topic, payload):
                    key = key_of(trigger, None, context.get("entity"), payload)
                    begin = engine.Start(contact_id, key, message.created_at, context)
                    engine.start(session, flow, definition, begin, now)
                    break


def _matching_trigger(
    session: Session, definition: Definition, event: Event, now: datetime
) -> Trigger | None:
    for trigger in definition.triggers:
        if trigger.kind != "event" or trigger.event is None:
            continue
        if not trigger.event.matches(event.name, event.category, event.action):
            continue
        if trigger.where is not None and not matching.passes_where(
            session, event.store_id, event.id, trigger.event, trigger.where, now
        ):
            continue
        return trigger
    return None


def _message_matches(trigger: Trigger, topic: str, payload: dict[str, Any]) -> bool:
    if trigger.kind == "record":
        return trigger.topic == topic
    if trigger.kind in (SEGMENT_ENTERED, SEGMENT_EXITED):
        return trigger.kind == topic and trigger.segment_id == payload.get("segment_id")
    return False


def _order_entity(session: Session, store_id: int, payload: dict[str, Any]) -> dict[str, Any]:
    """The order's own id as the store knows it (``entity.id``, as its order events carry
    it), so a flow keyed by ``entity.id`` sees one order whichever way it was told."""
    order_id = payload.get("id")
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        return {}
    order = session.get(Order, order_id)
    if order is None or order.store_id != store_id or order.external_id is None:
        return {}
    return {"id": order.external_id}


#: The registry's instance (the real clock).
FLOWS = Flows()
