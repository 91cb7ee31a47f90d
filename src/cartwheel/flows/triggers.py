"""The flow entries of the worker registry: events and domain changes start runs, and wake
the runs that wait for them, in the transaction that processes them.

- **Events** (:meth:`Flows.process_event`): only for stores with flows, only for events a
  published version mentions (its trigger, an ``exitOn``, a ``wait_for_event``), asked with
  the event's header before it is loaded. ``silent`` events are never loaded: they start,
  advance and end nothing. With the contacts' flows locks held (PostgreSQL,
  :func:`engine.hold_contacts`), the contact's active runs of those flows the event may
  move (an ``exitOn`` of theirs: every one; otherwise those not asleep on a timer,
  :class:`_Wakes`) are locked and advanced (an exit or the awaited event is read from the
  log), then live flows whose trigger matches start a run.
- **Domain changes** (:meth:`Flows.consume_message`): ``segment_entered`` /
  ``segment_exited`` and ``order_created`` for an order made through the store data API.

A paused flow starts nothing and its runs are not advanced; resuming makes them due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, String, and_, func, or_, select
from sqlalchemy.orm import Session

from cartwheel import outbox
from cartwheel.flows import engine, matching, repository, stored_trigger, timers
from cartwheel.flows.definition import Definition, Trigger
from cartwheel.kit.sql import among, rows_of
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
#: And of its noted outbox messages.
_MESSAGES = "cartwheel.flows.messages"


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


#: The event columns a pass reads for flows besides the queue's header (id, store, name,
#: category, silence): its contact, its kind, its moment (exits count from it), its
#: trigger's key and ``where``. A run keeps only the event's id (``stored_trigger.py``):
#: what else of the event a step shows is read back from the log when it does.
EVENT_COLUMNS = ("contact_id", "action", "occurred_at", "properties", "property_types", "entity")


class Seen(NamedTuple):
    """An event of a pass as flows read it: the queue's header and :data:`EVENT_COLUMNS`,
    as a named tuple. A pass reads each event's columns a few dozen times (its kind, its
    contact, its key, its ``where``, its exits), and an attribute of a SQLAlchemy ``Row``
    costs ~0.4 µs (its ``__getattr__`` fallback) against ~0.03 for a named tuple's: ~15 µs
    an event of the flows bench's load."""

    id: Any
    store_id: int
    name: str
    category: str | None
    silent: bool
    contact_id: int | None
    action: str | None
    occurred_at: datetime
    properties: dict[str, Any] | None
    property_types: dict[str, Any] | None
    entity: Any


#: Per set of a row's columns (the queue reads the same few), what picks :class:`Seen`'s
#: values from it by position.
_PICKS: dict[tuple[str, ...], Callable[[Any], tuple[Any, ...]]] = {}


def seen(event: Any) -> Any:
    """The event as :class:`Seen` if it is a row; an ORM event as it is."""
    if isinstance(event, Event):
        return event
    fields = event._fields
    pick = _PICKS.get(fields)
    if pick is None:
        pick = _PICKS[fields] = itemgetter(*(fields.index(name) for name in Seen._fields))
    return Seen._make(pick(event))


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

    def process_event(self, session: Session, event: Any) -> None:
        """Note the event (an ORM event, or a row of the header and :data:`EVENT_COLUMNS`);
        :meth:`plan` handles the pass's events in log order."""
        event = seen(event)
        if event.silent or event.contact_id is None:
            return
        deferred(session).setdefault(_EVENTS, []).append(event)

    def plan(self, session: Session) -> Plan | None:
        """Handle the pass's noted events, in log order, as far as deciding what to write:
        read ahead in a few queries what they will need (the active runs of their contacts,
        locked on PostgreSQL; those runs' contacts, step rows and exit events; the last
        start per key; who passes each flow's entry filter), start and advance the runs, and
        turn what that changes into statements (:func:`engine.prepare_batched`). On SQLite
        the queue may call this in a read transaction, before the write transaction that
        calls :meth:`apply`: there a run that reaches a step writing more than its own rows
        (a send, a profile or list change) leaves the whole pass to :meth:`apply`."""
        events: list[Any] = deferred(session).pop(_EVENTS, [])
        if not events:
            return None
        now = self.clock()
        planned = Plan(events, session, now, read_only=matching.dialect(session) == "sqlite")
        if planned.read_only:
            planned.changes = _run_changes(session)
        try:
            with session.no_autoflush:
                for store_id, store_events in _by_store(events).items():
                    live = [f for f in flows_of(session, store_id) if f.state == "live"]
                    planned.flows[store_id] = _flow_states(flows_of(session, store_id))
                    if live:
                        self._handle(session, live, store_events, now, planned)
        except engine.Unplannable:
            engine.discard_batch(session)  # the redo reads the runs again
            planned.statements = None
        finally:
            matching.forget(session)
        return planned

    def apply(self, session: Session, planned: Plan | None) -> None:
        """Write what :meth:`plan` decided, if nothing it relied on changed since (with the
        worker lease held only the API can have: a flow paused, republished or deleted, a
        contact merged or deleted, a test run started; or the timer sweep advanced a run);
        otherwise, or if the plan could not be made without writing, handle the pass's
        events again here, writing as they go."""
        if planned is None:
            return
        if planned.statements is not None and (
            planned.session is session or _unchanged(session, planned)
        ):
            connection = session.connection()
            for statements in planned.statements:
                statements.execute(connection)
            outbox.emit_many(connection, planned.messages)
            return
        now = self.clock()
        for store_id, store_events in _by_store(planned.events).items():
            live = [f for f in flows_of(session, store_id) if f.state == "live"]
            if live:
                self._handle(session, live, store_events, now)
        matching.forget(session)

    def _handle(
        self,
        session: Session,
        live: list[Flow],
        events: list[Any],
        now: datetime,
        planned: Plan | None = None,
    ) -> None:
        """Start and advance the runs these events (of one store) call for; written at
        the end, or, with ``planned``, kept in it as statements."""
        contact_ids = sorted({e.contact_id for e in events if e.contact_id is not None})
        flow_ids = [f.id for f in live]
        # What depends only on the kind of event (name, category, action), worked out once
        # per kind: the live flows that mention it, whether a run's version waits for or
        # exits on it, the triggers it may match (before their ``where``).
        by_kind: dict[_Kind, list[_Wanting]] = {}
        kinds: dict[int, set[_Kind]] = {}
        for event in events:
            kind = (event.name, event.category, event.action)
            kinds.setdefault(event.contact_id, set()).add(kind)
            if kind not in by_kind:
                by_kind[kind] = [
                    _Wanting(flow, *_kind_triggers(session, flow, kind))
                    for flow in wanting(session, live[0].store_id, *kind)
                    if flow.state == "live"
                ]
        # Whether an event of a kind may move a run of a version (:class:`_Wakes`): once
        # per (flow, version, kind).
        wakes: dict[tuple[int, int, _Kind], _Wakes] = {}

        def moves(flow_id: int, version: int, timed: bool, kind: _Kind) -> bool:
            found = wakes.get((flow_id, version, kind))
            if found is None:
                definition = engine.definition_of(session, flow_id, version)
                found = wakes[(flow_id, version, kind)] = _wakes(definition, kind)
            return found.every or (found.unless_timed and not timed)

        def moved(flow_id: int, version: int, timed: bool, contact_id: int) -> bool:
            """Whether some kind of the contact's events in the pass may move the run."""
            return any(moves(flow_id, version, timed, kind) for kind in kinds[contact_id])

        # Before reading their runs: with the contacts' flows locks held, no other pass and
        # no sweep changes them (:func:`engine.try_hold_contacts`).
        engine.hold_contacts(session, contact_ids)
        # Of the contacts' active runs, those the pass may move are read whole (and locked,
        # on PostgreSQL, against the API): every run of a flow one of its kinds of event
        # may move (:func:`_moving`). One of a key that one of its events may start again,
        # which no event moves, is held (its trigger is all a start changes:
        # :class:`engine.Held`). A contact's other runs do not change in the pass, and
        # are not read.
        keys = _start_keys(events, by_kind)
        slots = {(e.flow_id, e.contact_id, e.key) for e in keys.values() if e.one_active}
        scope = _Scope(_moving(live, by_kind, moves), contact_ids, slots)
        heads = _active_heads(session, scope)
        whole: list[int] = []
        held: dict[tuple[int, int, str], engine.Run | engine.Held] = {}
        for head in heads:
            if moved(head.flow_id, head.version, head.wait == _TIMER, head.contact_id):
                whole.append(head.id)
            elif head.slot is not None and (head.flow_id, head.contact_id, head.slot) in slots:
                held[(head.flow_id, head.contact_id, head.slot)] = engine.Held(
                    head.id, head.slot, head.trigger_at, head.updated_at
                )
        runs = _runs(session, whole)
        writes = engine.batch_writes(session, read_only=planned is not None and planned.read_only)
        engine.read_contacts(session, contact_ids)
        # The exits and awaited events read ahead for the runs the pass's events may move
        # (only those are advanced: a run no event moves now does not change in the pass).
        timers.read_waits_ahead(session, runs, now)
        if planned is not None:
            planned.note(scope, heads, writes)
            writes.last_id = planned.last_id  # ids drawn for another store's runs, unwritten
        _read_exits_ahead(session, live, events, now)
        starts = _last_starts(session, live, _entering(keys, held))
        held.update({(r.flow_id, r.contact_id, r.slot): r for r in runs if r.slot is not None})
        known = engine.Known(
            flows=set(flow_ids),
            contacts=set(contact_ids),
            runs=held,
            starts=starts,
            filters={},
            writes=writes,
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
                    match = trigger.event
                    # Only the events this trigger may match are asked about (the others'
                    # answers would never be read: :func:`_kind_triggers`).
                    asked = [e for e in events if match.matches(e.name, e.category, e.action)]
                    known.wheres[id(trigger)] = matching.passing_where(
                        session, flow.store_id, asked, match, trigger.where, now
                    )
        engine.batch_messages(session)
        for event in events:
            contact_id = event.contact_id
            assert contact_id is not None
            kind = (event.name, event.category, event.action)
            wanted = by_kind[kind]
            if not wanted:
                continue
            mine = by_contact.get(contact_id, [])
            if mine:
                if any(engine.unsettled(run) for run in mine):
                    engine.settle(
                        session, known, now
                    )  # a run this pass started meets its next event
                for run in mine:
                    if run.state == engine.ACTIVE and moves(
                        run.flow_id, run.version, _timed(run), kind
                    ):
                        definition = engine.definition_of(session, run.flow_id, run.version)
                        engine.advance(session, run, definition, now)
            context: dict[str, Any] | None = None
            for want in wanted:
                matched = _first_passing(session, want.triggers, event, now, known.wheres)
                if matched is None:
                    continue
                context = context or stored_trigger.of_event(event)
                key = keys[(id(matched), id(event))].key
                begin = engine.Start(contact_id, key, event.occurred_at, context)
                started = engine.start(session, want.flow, want.definition, begin, now, known=known)
                if started is not None:
                    by_contact.setdefault(contact_id, []).append(started)
        engine.settle(session, known, now)
        if planned is None:
            engine.write_batched(session)
            engine.emit_batched(session)
            return
        statements = engine.prepare_batched(session)
        if statements is not None:
            assert planned.statements is not None
            planned.statements.append(statements)
        planned.messages += engine.batched_messages(session)
        planned.last_id = max(planned.last_id, writes.last_id)
        if planned.highest is None:
            planned.highest = writes.highest

    # -- domain changes ------------------------------------------------------------------

    def wants_message(self, session: Session, header: Any) -> bool:
        if header.topic not in TOPICS:
            return False
        return any(f.state == "live" for f in flows_of(session, header.store_id))

    def consume_message(self, session: Session, message: OutboxMessage) -> None:
        """Note the message; :meth:`start_from_messages` handles the pass's messages."""
        if message.topic in TOPICS and _message_contact(message) is not None:
            deferred(session).setdefault(_MESSAGES, []).append(message)

    def start_from_messages(self, session: Session) -> None:
        """Start the runs the pass's noted messages call for, in log order, once their
        contacts' flows locks are taken, all together and in id order as an event pass
        takes them (:func:`engine.hold_contacts`): an order record's message and the
        order's event of one person, in two passes at once, then take turns."""
        messages: list[OutboxMessage] = deferred(session).pop(_MESSAGES, [])
        contacts = [_message_contact(message) for message in messages]
        engine.hold_contacts(session, [c for c in contacts if c is not None])
        for message, contact_id in zip(messages, contacts, strict=True):
            if contact_id is not None:
                self._start_from(session, message, contact_id)

    def _start_from(self, session: Session, message: OutboxMessage, contact_id: int) -> None:
        live = [f for f in flows_of(session, message.store_id) if f.state == "live"]
        if not live:
            return
        payload = message.payload or {}
        now = self.clock()
        if message.topic == ORDER_CREATED:
            entity = _order_entity(session, message.store_id, payload)
            context = {"source": "record", "event": None, "entity": entity, "record": payload}
        else:
            segment = {"id": payload.get("segment_id")}
            context = {"source": message.topic, "event": None, "entity": None, "segment": segment}
        for flow in live:
            assert flow.version is not None
            definition = engine.definition_of(session, flow.id, flow.version)
            for trigger in definition.triggers:
                if _message_matches(trigger, message.topic, payload):
                    key = key_of(trigger, None, context.get("entity"), payload)
                    begin = engine.Start(contact_id, key, message.created_at, context)
                    engine.start(session, flow, definition, begin, now)
                    break


def _message_contact(message: OutboxMessage) -> int | None:
    """The contact a flows message is about, if it names a valid one."""
    payload = message.payload or {}
    found = payload.get("contactId" if message.topic == ORDER_CREATED else "contact_id")
    if not isinstance(found, int) or isinstance(found, bool) or found <= 0:
        return None
    return found


def _read_exits_ahead(
    session: Session, flows: list[Flow], events: list[Any], now: datetime
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
        # Whether a kind of event (name, category, action) may start a run: once per kind.
        starts: dict[tuple[str, str | None, str | None], bool] = {}
        first: dict[int, datetime] = {}
        for event in events:
            if event.contact_id is None:
                continue
            kind = (event.name, event.category, event.action)
            starting = starts.get(kind)
            if starting is None:
                starting = starts[kind] = any(k.matches(*kind) for k in kinds)
            if starting:
                moment = min(event.occurred_at, now)
                first[event.contact_id] = min(first.get(event.contact_id, moment), moment)
        if not first:
            continue
        for wait in definition.exit_on:
            since = dict(first)
            for contact_id, moment in matching.ahead_since(session, flow.store_id, wait).items():
                since[contact_id] = min(since.get(contact_id, moment), moment)
            matching.prefetch(session, flow.store_id, wait, since, now)


class _Head(NamedTuple):
    """An active run as a pass first reads it: enough to tell whether the pass needs the
    rest of it, and (SQLite) whether it changed before the pass's plan is written."""

    id: int
    flow_id: int
    version: int
    contact_id: int
    slot: str | None
    state: str
    seq: int
    updated_at: datetime
    trigger_at: datetime
    #: What it waits for (``waiting``'s kind: :data:`_TIMER`, "event"), or None.
    wait: str | None


_TIMER = "timer"


class _Scope(NamedTuple):
    """The active runs a pass over one store's events reads: every run of its
    ``contact_ids`` in the ``moving`` flows, and the run of each of ``slots`` (flow,
    contact, key) of the other flows, if there is one."""

    moving: list[int]
    contact_ids: list[int]
    slots: set[tuple[int, int, str]]


def _moving(
    live: list[Flow],
    by_kind: dict[_Kind, list[_Wanting]],
    moves: Callable[[int, int, bool, _Kind], bool],
) -> list[int]:
    """The live flows whose runs one of the pass's kinds of event may move (``moves``,
    asked of a run not asleep on a timer): a version (runs go on with the version they
    started on) exits on it or has a step waiting for it (:func:`_wakes`). An event moves
    no run of the other flows: it may only start one of them again, which refreshes the
    active run of its key, read by the key alone. Under the flows bench that left a
    person's every browse-abandonment run but the viewed product's unread: by the third
    load, two to three a view."""
    found = []
    for flow in live:
        assert flow.version is not None
        versions = range(1, flow.version + 1)
        if any(moves(flow.id, version, False, kind) for version in versions for kind in by_kind):
            found.append(flow.id)
    return found


def _active_heads(session: Session, scope: _Scope) -> list[_Head]:
    """The :class:`_Head` of the scope's runs (test runs, never left active, aside), in
    id order. Not locked: with the contacts' flows locks held, the sweep leaves their
    runs alone. (Row locks on every one were a fifth of PostgreSQL's time for a pass under
    the flows bench, at four active runs a person.)"""
    dialect = matching.dialect(session)
    heads: list[_Head] = []
    if scope.moving:
        heads += map(
            _Head._make,
            matching.core(session, _active_query(dialect, scope.moving, scope.contact_ids)),
        )
    moving = set(scope.moving)
    slots = sorted(slot for slot in scope.slots if slot[0] not in moving)
    if slots:
        heads += map(_Head._make, matching.core(session, _slots_query(dialect, slots)))
        heads.sort(key=_head_id)
    return heads


_head_id = itemgetter(0)


def _active_query(dialect: str, flow_ids: list[int], contact_ids: list[int]) -> Select[Any]:
    """The :class:`_Head` of the contacts' active runs of these flows (test runs aside),
    found through their contacts' index. The flow and the state are compared
    as expressions, so that no index led by the flow qualifies: SQLite's planner took
    (flow, test, state) and read every active run of the flows in each pass (tens of
    thousands under the flows bench), and PostgreSQL's, with statistics taken while the
    table was small, read every run of the flows through (flow, ...) indexes, not the few
    runs of its contacts."""
    return (
        select(
            *(FlowRun.__table__.c[name] for name in _Head._fields[:-1]),
            FlowRun.waiting["kind"].as_string(),
        )
        .where(
            (FlowRun.flow_id + 0).in_(flow_ids),
            among(dialect, FlowRun.contact_id, contact_ids),
            FlowRun.state.concat("") == engine.ACTIVE,
            FlowRun.test.is_(False),
        )
        # In the runs' order, sorted after the contacts' index found them: ordered by the
        # key itself, SQLite walked the whole table in key order instead (55 ms against 3
        # for 1,500 contacts among 100,000 runs, every pass).
        .order_by(FlowRun.id + 0)
    )


def _slots_query(dialect: str, slots: list[tuple[int, int, str]]) -> Select[Any]:
    """The :class:`_Head` of the active run of each (flow, contact, key), if any: the keys
    joined to the unique index on (contact, flow, slot), one row each. A run has a slot
    only while it is active and not a test run (:class:`FlowRun`), so the join alone finds
    them: checked as well, ``state`` (compared as an expression, as elsewhere) made
    PostgreSQL's planner expect a few hundred active runs and hash the whole table for
    each pass."""
    flows, contacts, keys = zip(*slots, strict=True)
    wanted = rows_of(
        dialect,
        {
            "contact_id": (Integer(), list(contacts)),
            "flow_id": (Integer(), list(flows)),
            "slot": (String(), list(keys)),
        },
    )
    return (
        select(
            *(FlowRun.__table__.c[name] for name in _Head._fields[:-1]),
            FlowRun.waiting["kind"].as_string(),
        )
        .select_from(wanted)
        .join(
            FlowRun,
            and_(
                FlowRun.contact_id == wanted.c.contact_id,
                FlowRun.flow_id == wanted.c.flow_id,
                FlowRun.slot == wanted.c.slot,
            ),
        )
    )


_READ = [FlowRun.__table__.c[name] for name in engine.READ_COLUMNS]


def _runs(session: Session, ids: list[int]) -> list[engine.NewRun]:
    """These runs whole, in id order, as plain objects (:class:`engine.NewRun`); locked on
    PostgreSQL, so that the API's changes (a flow deleted ends its runs) wait for the pass
    or come before it, never in between."""
    if not ids:
        return []
    dialect = matching.dialect(session)
    query = select(*_READ).where(among(dialect, FlowRun.id, ids)).order_by(FlowRun.id)
    if dialect == "postgresql":
        query = query.with_for_update()
    return [engine.stored_run(row) for row in matching.core(session, query)]


class _Entry(NamedTuple):
    """A run one of a pass's events may start through one of its flow's triggers (before
    the trigger's ``where``)."""

    flow_id: int
    contact_id: int
    key: str
    #: Whether the flow lets one active run per key (:func:`engine.start` then refreshes
    #: the key's active run, if it has one, instead).
    one_active: bool


def _start_keys(
    events: list[Any], by_kind: dict[_Kind, list[_Wanting]]
) -> dict[tuple[int, int], _Entry]:
    """Each start the pass's events may make, by (trigger, event) ids: worked out once,
    for what the pass reads ahead (the active runs of those keys, the last starts) and for
    the start itself."""
    found: dict[tuple[int, int], _Entry] = {}
    for event in events:
        for want in by_kind[(event.name, event.category, event.action)]:
            one_active = want.definition.entry.per_key == "one_active"
            for trigger in want.triggers:
                key = _event_key(trigger, event)
                entry = _Entry(want.flow.id, event.contact_id, key, one_active)
                found[(id(trigger), id(event))] = entry
    return found


def _entering(
    keys: dict[tuple[int, int], _Entry], held: dict[tuple[int, int, str], Any]
) -> dict[int, set[int]]:
    """Per flow, the contacts whose starts in the pass may reach its re-entry rule: all
    but those whose every start meets an active run the pass holds (:class:`engine.Held`,
    active through the pass), which it only refreshes."""
    found: dict[int, set[int]] = {}
    for entry in keys.values():
        if not (entry.one_active and (entry.flow_id, entry.contact_id, entry.key) in held):
            found.setdefault(entry.flow_id, set()).add(entry.contact_id)
    return found


def _event_key(trigger: Trigger, event: Any) -> str:
    """The key of the run an event starts through this trigger."""
    return key_of(trigger, {"properties": event.properties}, event.entity, event.entity)


def _last_starts(
    session: Session, flows: list[Flow], entering: dict[int, set[int]]
) -> dict[tuple[int, int, str], datetime]:
    """The last start per (flow, contact, key) and per (flow, contact) (under
    :data:`engine.CONTACT`), for the flows whose re-entry needs it, of the contacts whose
    starts may reach it (``entering``, :func:`_entering`)."""
    flow_ids = []
    wanted: set[int] = set()
    for flow in flows:
        assert flow.version is not None
        if flow.id not in entering:
            continue
        if engine.definition_of(session, flow.id, flow.version).entry.reentry != "always":
            flow_ids.append(flow.id)
            wanted |= entering[flow.id]
    if not flow_ids:
        return {}
    contact_ids = sorted(wanted)
    rows = matching.core(session, _starts_query(matching.dialect(session), flow_ids, contact_ids))
    starts: dict[tuple[int, int, str], datetime] = {}
    for f, c, k, at in rows:
        moment = _aware(at)
        starts[(f, c, k)] = moment
        last = starts.get((f, c, engine.CONTACT))
        starts[(f, c, engine.CONTACT)] = moment if last is None else max(last, moment)
    return starts


def _starts_query(
    dialect: str, flow_ids: list[int], contact_ids: list[int]
) -> Select[int, int, str, datetime]:
    """The last start per (flow, contact, key) of these flows' runs of these contacts,
    found through the contacts' index: the flow compared as an expression, as in
    :func:`_active_query` (with the flow as a column, PostgreSQL's planner, its statistics
    older than a fast-growing table, read every run of a flow per pass through a flow's
    index), but in the query: picked in Python, the runs of every other flow of the
    contacts (under the flows bench, most of their runs) were read, grouped and sent for
    nothing."""
    return (
        select(FlowRun.flow_id, FlowRun.contact_id, FlowRun.key, func.max(FlowRun.started_at))
        .where(
            among(dialect, FlowRun.contact_id, contact_ids),
            (FlowRun.flow_id + 0).in_(flow_ids),
            FlowRun.test.is_(False),
        )
        .group_by(FlowRun.flow_id, FlowRun.contact_id, FlowRun.key)
    )


def _passing(
    session: Session, store_id: int, definition: Definition, contact_ids: list[int], now: datetime
) -> set[int]:
    assert definition.entry.filter is not None
    ctx = Context(store_id, now, matching.dialect(session))
    return matching.core_set(
        session,
        select(Contact.id).where(
            among(ctx.dialect, Contact.id, contact_ids),
            active(store_id),
            compile_condition(definition.entry.filter, ctx),
        ),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


#: A kind of event: (name, category, action).
_Kind = tuple[str, str | None, str | None]


class _Wakes(NamedTuple):
    """Which active runs of a version an event of one kind (name, category, action) is
    for: ``every`` one if it is an ``exitOn`` of the version (it ends a run wherever the
    run is); otherwise, if a ``wait_for_event`` step of the version waits for it, the
    runs ``unless_timed``: a run asleep on a ``wait``'s timer has nothing to do with it
    before the timer, and the timer sweep wakes it then. A trigger moves no run: its next
    event of a run's key refreshes the run through :func:`engine.start`, and a run between
    steps (a long chain's, continued ``wake_at`` now) is the sweep's. Advancing a timed run
    for each of its trigger's events was most of a pass's run updates under the flows
    bench, where people view a product again while a browse-abandonment run waits."""

    every: bool
    unless_timed: bool


def _wakes(definition: Definition, kind: _Kind) -> _Wakes:
    if any(wait.event.matches(*kind) for wait in definition.exit_on):
        return _Wakes(every=True, unless_timed=True)
    waits = any(
        step.wait is not None and step.wait.event.matches(*kind)
        for step in definition.steps.values()
    )
    return _Wakes(every=False, unless_timed=waits)


def _timed(run: engine.Run) -> bool:
    """Whether the run sleeps on a ``wait`` step's timer."""
    return run.waiting is not None and run.waiting.get("kind") == "timer"


class _Wanting(NamedTuple):
    """A live flow that mentions a kind of event, worked out once per kind in a pass."""

    flow: Flow
    definition: Definition
    #: Its event triggers that events of the kind match (before their ``where``).
    triggers: list[Trigger]


def _kind_triggers(
    session: Session, flow: Flow, kind: tuple[str, str | None, str | None]
) -> tuple[Definition, list[Trigger]]:
    """The flow's live version and the event triggers of that version that events of this
    kind match (before their ``where``)."""
    assert flow.version is not None
    definition = engine.definition_of(session, flow.id, flow.version)
    triggers = [
        trigger
        for trigger in definition.triggers
        if trigger.kind == "event" and trigger.event is not None and trigger.event.matches(*kind)
    ]
    return definition, triggers


def _first_passing(
    session: Session,
    candidates: list[Trigger],
    event: Any,
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


@dataclass(slots=True)
class Plan:
    """What :meth:`Flows.plan` decided for a pass's events, and what it relied on, for
    :meth:`Flows.apply` to check."""

    events: list[Any]
    #: The session it was made in: applied in the same one, nothing can have changed.
    session: Session
    now: datetime
    read_only: bool
    #: The statements to execute, one group per store; None: the pass is handled again in
    #: the write transaction.
    statements: list[engine.Statements] | None = field(default_factory=list)
    messages: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    #: Per store, its published flows as (id, version, state).
    flows: dict[int, list[tuple[int, int | None, str]]] = field(default_factory=dict)
    #: The scopes whose active runs were read, and those runs (compared again by
    #: :func:`_same_runs` only if some run changed meanwhile).
    scopes: list[_Scope] = field(default_factory=list)
    heads: list[_Head] = field(default_factory=list)
    #: The contacts read, and those of them already gone (deleted or merged).
    contacts: list[int] = field(default_factory=list)
    gone: set[int] = field(default_factory=set)
    #: SQLite: the count of changes to existing runs (:func:`_run_changes`) as the plan
    #: read them.
    changes: int | None = None
    #: SQLite: the highest run id when the new runs' ids were first drawn, and the last id
    #: drawn (a pass's stores draw one after the other before anything is written).
    highest: int | None = None
    last_id: int = 0

    def note(self, scope: _Scope, heads: list[_Head], writes: Any) -> None:
        """What a store's part of the pass read, before anything changes it."""
        self.scopes.append(scope)
        self.heads += heads
        self.contacts += scope.contact_ids
        self.gone.update(c for c in scope.contact_ids if not _present(writes.contacts.get(c)))


def _present(who: Any) -> bool:
    return who is not None and who.deleted_at is None and who.merged_into_id is None


def _by_store(events: list[Any]) -> dict[int, list[Any]]:
    by_store: dict[int, list[Any]] = {}
    for event in events:
        by_store.setdefault(event.store_id, []).append(event)
    return by_store


def _flow_states(flows: list[Flow]) -> list[tuple[int, int | None, str]]:
    return [(f.id, f.version, f.state) for f in flows]


def _run_changes(session: Session) -> int:
    """SQLite: how many times an existing run has been changed or deleted (a count kept
    by triggers, migration 0029)."""
    return int(
        session.connection()
        .exec_driver_sql("SELECT n FROM flow_runs_changes WHERE id = 1")
        .scalar_one()
    )


def _unchanged(session: Session, planned: Plan) -> bool:
    """Whether what ``planned`` relied on still holds: the stores' published flows, the
    active runs of its scopes (:class:`_Scope`), its contacts' presence, and (SQLite) the
    highest run id, past which the plan drew its new runs' ids. A few queries, in the
    write transaction; the runs are read again only if some run changed since the plan
    (:func:`_run_changes`: the timer sweep, the API)."""
    for store_id, states in planned.flows.items():
        if _flow_states(repository.published(session, store_id)) != states:
            return False
    runs_changed = planned.changes is None or _run_changes(session) != planned.changes
    if runs_changed and not _same_runs(session, planned):
        return False
    if planned.contacts:
        gone = matching.core_set(
            session,
            select(Contact.id).where(
                among(matching.dialect(session), Contact.id, sorted(set(planned.contacts))),
                or_(Contact.deleted_at.is_not(None), Contact.merged_into_id.is_not(None)),
            ),
        )
        if gone != planned.gone:
            return False
    if planned.highest is not None:
        highest = session.execute(select(func.max(FlowRun.id))).scalar() or 0
        if highest != planned.highest:
            return False
    return True


def _same_runs(session: Session, planned: Plan) -> bool:
    """Whether the active runs of the plan's scopes are those it read, in the same
    states."""
    now_runs = {
        h.id: (h.state, h.seq, h.updated_at)
        for scope in planned.scopes
        for h in _active_heads(session, scope)
    }
    return now_runs == {h.id: (h.state, h.seq, h.updated_at) for h in planned.heads}


#: The registry's instance (the real clock).
FLOWS = Flows()
