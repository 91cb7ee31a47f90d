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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartwheel.events.schemas import event_view
from cartwheel.flows import engine, matching, repository, timers
from cartwheel.flows.definition import Definition, Trigger, mentions
from cartwheel.models import Contact, Event, Flow, FlowRun, Order, OutboxMessage
from cartwheel.models.base import utcnow
from cartwheel.outbox import SEGMENT_ENTERED, SEGMENT_EXITED
from cartwheel.segments.compiler import Context, active, compile_condition
from cartwheel.worker.queue import deferred

Clock = Callable[[], datetime]
ORDER_CREATED = "order_created"
TOPICS = frozenset({SEGMENT_ENTERED, SEGMENT_EXITED, ORDER_CREATED})
_CACHE = "cartwheel.flows.live"
_KINDS = "cartwheel.flows.kinds"
#: The key of the pass's noted events in the queue's deferred work.
_EVENTS = "cartwheel.flows.events"


def flows_of(session: Session, store_id: int) -> list[Flow]:
    """The store's published, not deleted flows (live or paused), read once per pass."""
    cache: dict[int, list[Flow]] = session.info.setdefault(_CACHE, {})
    if store_id not in cache:
        cache[store_id] = repository.published(session, store_id)
    return cache[store_id]


def wanting(
    session: Session, store_id: int, name: str, category: str | None, action: Any
) -> list[Flow]:
    """The store's published flows that mention events like this one (``action`` ``...``:
    not known yet), worked out once per kind of event in a pass: a pass's events are
    mostly of a few kinds."""
    cache: dict[tuple[Any, ...], list[Flow]] = session.info.setdefault(_KINDS, {})
    key = (store_id, name, category, action)
    found = cache.get(key)
    if found is None:
        found = cache[key] = [
            f
            for f in flows_of(session, store_id)
            if mentions_event(f.mentions or {}, name, category, action)
        ]
    return found


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
        return bool(wanting(session, header.store_id, header.name, header.category, ...))

    def process_event(self, session: Session, event: Event) -> None:
        """Note the event; :meth:`flush` handles the pass's events in log order."""
        if event.silent or event.contact_id is None:
            return
        deferred(session).setdefault(_EVENTS, []).append(event)

    def flush(self, session: Session) -> None:
        """Handle the pass's noted events, in log order, after reading ahead in a few
        queries what they will need: the active runs of their contacts (locked on
        PostgreSQL), those runs' contacts, step rows and exit events, the last start per
        key, and who passes each flow's entry filter. The new runs go in with one INSERT,
        and what starting and advancing runs changes is written in a few statements at
        the end (:func:`engine.write_batched`)."""
        events: list[Event] = deferred(session).pop(_EVENTS, [])
        if not events:
            return
        now = self.clock()
        by_store: dict[int, list[Event]] = {}
        for event in events:
            by_store.setdefault(event.store_id, []).append(event)
        for store_id, store_events in by_store.items():
            live = [f for f in flows_of(session, store_id) if f.state == "live"]
            if live:
                self._handle(session, live, store_events, now)
        matching.forget(session)

    def _handle(
        self, session: Session, live: list[Flow], events: list[Event], now: datetime
    ) -> None:
        contact_ids = sorted({e.contact_id for e in events if e.contact_id is not None})
        flow_ids = [f.id for f in live]
        runs = _active_runs(session, flow_ids, contact_ids)
        engine.batch_writes(session)
        timers.read_ahead(session, runs, now)
        engine.read_contacts(session, contact_ids)
        _read_exits_ahead(session, live, events, now)
        known = engine.Known(
            covered={(f, c) for f in flow_ids for c in contact_ids},
            runs={(r.flow_id, r.contact_id, r.slot): r for r in runs if r.slot is not None},
            starts=_last_starts(session, live, contact_ids),
            filters={},
        )
        by_contact: dict[int, list[engine.Run]] = {}
        for active_run in runs:
            by_contact.setdefault(active_run.contact_id, []).append(active_run)
        for flow in live:
            assert flow.version is not None
            definition = engine.definition_of(session, flow.id, flow.version)
            if definition.entry.filter is not None:
                known.filters[flow.id] = _passing(
                    session, flow.store_id, definition, contact_ids, now
                )
            for trigger in definition.triggers:
                if trigger.where is not None and trigger.event is not None:
                    known.wheres[id(trigger)] = matching.passing_where(
                        session, flow.store_id, events, trigger.event, trigger.where, now
                    )
        engine.batch_messages(session)
        # What depends only on the kind of event (name, category, action), worked out once
        # per kind: the live flows that mention it, whether a run's version waits for or
        # exits on it, the triggers it may match (before their ``where``).
        by_kind: dict[tuple[str, str | None, str | None], list[tuple[Flow, list[Trigger]]]] = {}
        advances: dict[tuple[int, int, tuple[str, str | None, str | None]], bool] = {}
        for event in events:
            contact_id = event.contact_id
            assert contact_id is not None
            kind = (event.name, event.category, event.action)
            wanted = by_kind.get(kind)
            if wanted is None:
                wanted = by_kind[kind] = [
                    (flow, _kind_triggers(session, flow, kind))
                    for flow in wanting(session, live[0].store_id, *kind)
                    if flow.state == "live"
                ]
            if not wanted:
                continue
            mine = by_contact.get(contact_id, [])
            if mine:
                if any(engine.unsettled(run) for run in mine):
                    engine.settle(
                        session, known, now
                    )  # a run this pass started meets its next event
                ids = {flow.id for flow, _ in wanted}
                for run in mine:
                    if run.flow_id not in ids or run.state != engine.ACTIVE:
                        continue
                    definition = engine.definition_of(session, run.flow_id, run.version)
                    woken = advances.get((run.flow_id, run.version, kind))
                    if woken is None:
                        woken = advances[(run.flow_id, run.version, kind)] = mentions_event(
                            mentions(definition).as_json(), *kind
                        )
                    if woken:
                        engine.advance(session, run, definition, now)
            context: dict[str, Any] | None = None
            for flow, candidates in wanted:
                matched = _first_passing(session, candidates, event, now, known.wheres)
                if matched is None:
                    continue
                assert flow.version is not None
                definition = engine.definition_of(session, flow.id, flow.version)
                context = context or trigger_of(event)
                key = key_of(matched, {"properties": event.properties}, event.entity, event.entity)
                begin = engine.Start(contact_id, key, event.occurred_at, context)
                started = engine.start(session, flow, definition, begin, now, known=known)
                if started is not None:
                    by_contact.setdefault(contact_id, []).append(started)
        engine.settle(session, known, now)
        engine.write_batched(session)
        engine.emit_batched(session)

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


def _read_exits_ahead(
    session: Session, flows: list[Flow], events: list[Event], now: datetime
) -> None:
    """The exit events a run started by these events will look for, read at once for the
    contacts of the events that may start one (merged with what the batch's active runs
    read ahead). A flow none of the events triggers reads nothing."""
    for flow in flows:
        assert flow.version is not None
        definition = engine.definition_of(session, flow.id, flow.version)
        if not definition.exit_on:
            continue
        kinds = [t.event for t in definition.triggers if t.event is not None]
        first: dict[int, datetime] = {}
        for event in events:
            if event.contact_id is not None and any(
                kind.matches(event.name, event.category, event.action) for kind in kinds
            ):
                moment = min(event.occurred_at, now)
                first[event.contact_id] = min(first.get(event.contact_id, moment), moment)
        if not first:
            continue
        for wait in definition.exit_on:
            since = dict(first)
            for contact_id, moment in matching.ahead_since(session, flow.store_id, wait).items():
                since[contact_id] = min(since.get(contact_id, moment), moment)
            matching.prefetch(session, flow.store_id, wait, since, now)


def _active_runs(session: Session, flow_ids: list[int], contact_ids: list[int]) -> list[FlowRun]:
    """The contacts' active runs of these flows, found through their contacts (an index on
    (flow, contact)). The state is compared as an expression and test runs (never left
    active) are left out here, so that no index on (flow, test, state) or (flow, state)
    qualifies: SQLite's planner took one and read every active run of the flows in each
    pass (tens of thousands under the flows bench), not the few runs of its contacts."""
    query = (
        select(FlowRun)
        .where(
            FlowRun.flow_id.in_(flow_ids),
            FlowRun.contact_id.in_(contact_ids),
            FlowRun.state.concat("") == engine.ACTIVE,
        )
        .order_by(FlowRun.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return [run for run in session.scalars(query) if not run.test]


def _last_starts(
    session: Session, flows: list[Flow], contact_ids: list[int]
) -> dict[tuple[int, int, str], datetime]:
    """The last start per (flow, contact, key) and per (flow, contact) (under
    :data:`engine.CONTACT`), for the flows whose re-entry needs it."""
    flow_ids = []
    for flow in flows:
        assert flow.version is not None
        if engine.definition_of(session, flow.id, flow.version).entry.reentry != "always":
            flow_ids.append(flow.id)
    if not flow_ids:
        return {}
    rows = session.execute(
        select(FlowRun.flow_id, FlowRun.contact_id, FlowRun.key, func.max(FlowRun.started_at))
        .where(
            FlowRun.flow_id.in_(flow_ids),
            FlowRun.contact_id.in_(contact_ids),
            FlowRun.test.is_(False),
        )
        .group_by(FlowRun.flow_id, FlowRun.contact_id, FlowRun.key)
    ).all()
    starts: dict[tuple[int, int, str], datetime] = {}
    for f, c, k, at in rows:
        moment = _aware(at)
        starts[(f, c, k)] = moment
        last = starts.get((f, c, engine.CONTACT))
        starts[(f, c, engine.CONTACT)] = moment if last is None else max(last, moment)
    return starts


def _passing(
    session: Session, store_id: int, definition: Definition, contact_ids: list[int], now: datetime
) -> set[int]:
    assert definition.entry.filter is not None
    ctx = Context(store_id, now, matching.dialect(session))
    return set(
        session.scalars(
            select(Contact.id).where(
                Contact.id.in_(contact_ids),
                active(store_id),
                compile_condition(definition.entry.filter, ctx),
            )
        )
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _kind_triggers(
    session: Session, flow: Flow, kind: tuple[str, str | None, str | None]
) -> list[Trigger]:
    """The flow's event triggers that events of this kind match (before their ``where``)."""
    assert flow.version is not None
    definition = engine.definition_of(session, flow.id, flow.version)
    return [
        trigger
        for trigger in definition.triggers
        if trigger.kind == "event" and trigger.event is not None and trigger.event.matches(*kind)
    ]


def _first_passing(
    session: Session,
    candidates: list[Trigger],
    event: Event,
    now: datetime,
    wheres: dict[int, set[Any]] | None = None,
) -> Trigger | None:
    """The first of these triggers (matching the event's kind) whose ``where`` the event
    passes."""
    for trigger in candidates:
        assert trigger.event is not None
        if trigger.where is not None:
            known = (wheres or {}).get(id(trigger))
            if known is not None:
                if event.id not in known:
                    continue
            elif not matching.passes_where(
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
