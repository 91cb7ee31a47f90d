"""Starting and advancing runs, in the caller's transaction.

A run is a row; advancing it runs its steps until it waits or ends, and everything a step
does (a queued message or webhook delivery, a profile or list change, the step log, the
run's new position) commits together with the event, message or timer that caused it. A
worker killed in the middle therefore leaves the run where it was, and the replay does the
step once; what a step queues carries a key of the run and the step visit.

Before any step, the run looks in the event log for an ``exitOn`` event (and a waiting
step for its event), whatever woke it: an event, its timer, or a resume. So an order that
was processed before the run started, while it waited, or out of order ends it all the
same, and a wake-up that was missed would only be late, never wrong."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import (
    BindParameter,
    Connection,
    Dialect,
    Table,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartwheel import outbox
from cartwheel.contacts import service as contacts
from cartwheel.exceptions import NotFound
from cartwheel.flows import matching, sending, stored_trigger
from cartwheel.flows.definition import Definition, Step, parse_definition, valid_zone
from cartwheel.ingest.bulk import BulkInsert
from cartwheel.kit.sql import among, array_text
from cartwheel.lists import service as lists
from cartwheel.lists.schemas import SubscriberListContacts
from cartwheel.models import Contact, Flow, FlowRun, FlowRunStep, FlowVersion
from cartwheel.webhooks import fanout
from cartwheel.webhooks import repository as webhooks
from cartwheel.worker.queue import deferred

#: Steps one advance may run before it stops (a definition cannot loop without a wait;
#: this bounds a long chain of instant steps all the same).
MAX_STEPS_PER_ADVANCE = 200
#: The webhook event type of a ``send_webhook`` step's delivery.
FLOW_WEBHOOK = "flow_webhook"
_NAMESPACE = uuid.UUID("5d3f0f7e-6a0c-4d4e-9a51-0c8f6b1f2a11")
#: Parsed versions by (database, flow, version): a process may serve several databases.
_DEFINITIONS: dict[tuple[str, int, int], Definition] = {}
_DEFINITIONS_MAX = 1000

ACTIVE, DONE, EXITED, FAILED = "active", "done", "exited", "failed"
#: The key under which :class:`Known` keeps a contact's last start of any key (a run key
#: is at most 300 characters of text and never this).
CONTACT = "\x00contact"
#: The keys of a batch's run messages and writes in the queue's deferred work (the event
#: processor's noted events and the outbox consumer's noted messages have keys of their
#: own there: ``triggers.py``).
_BATCH = "cartwheel.flows.run_messages"
_WRITES = "cartwheel.flows.writes"
#: The versions this session parsed or found, by (flow, version): the session's database.
_PARSED = "cartwheel.flows.parsed"


@dataclass(frozen=True, slots=True)
class Start:
    """What starts a run: whose it is, its key, the trigger's moment and what templates and
    ``match`` may read of it ({"source", "event", "entity", "record"})."""

    contact_id: int
    key: str
    at: datetime
    trigger: dict[str, Any]


@dataclass(slots=True, eq=False)
class NewRun:
    """A run of a pass's batch as a plain object with :class:`FlowRun`'s columns (in the
    order :data:`READ_COLUMNS` reads them), not an ORM object:

    - one the batch starts: its id is drawn when the batch settles it, and it is inserted
      once, as advancing it left it, by :func:`write_batched` (building the ORM object,
      inserting it and then updating it was two thirds of a start under the profiler);
    - an active one the pass read (``stored``), written back by id if the pass changes it
      (the ORM's loading and bookkeeping were a tenth of a pass's time under the flows
      bench, for runs most of which the pass only looks at)."""

    store_id: int
    flow_id: int
    version: int
    contact_id: int
    key: str
    slot: str | None
    step: str | None
    step_at: datetime | None
    trigger_at: datetime
    trigger: dict[str, Any]
    started_at: datetime
    updated_at: datetime
    #: 0 until :func:`settle` draws it.
    id: int = 0
    state: str = ACTIVE
    seq: int = 1
    test: bool = False
    waiting: dict[str, Any] | None = None
    deadline: datetime | None = None
    wake_at: datetime | None = None
    reason: str | None = None
    finished_at: datetime | None = None
    #: Whether its row exists (a run the pass read, not one it starts).
    stored: bool = False


#: The columns of a run's row, in :class:`NewRun`'s order (:func:`stored_run`).
READ_COLUMNS = tuple(f for f in NewRun.__dataclass_fields__ if f != "stored")


def stored_run(row: Any) -> NewRun:
    """A run's row, read as :data:`READ_COLUMNS`, as a plain object."""
    run = NewRun(*row)
    run.stored = True
    return run


#: A run being started or advanced: a row read as an ORM object (the timer sweep's), or a
#: plain one (a pass's).
Run = FlowRun | NewRun


@dataclass(slots=True, eq=False)
class Held:
    """An active run a pass read only as far as a start reads it: the run of a key one of
    the pass's events may start again, which none of its events moves (so it stays active
    through the pass, and a start of its key only refreshes its trigger). Reading such runs
    whole was one per event under the flows bench (a flow with one run per contact, its
    trigger seen again by every event), for three columns written back. A refresh writes
    them by id, only while the run is still active (``stored``: its row exists)."""

    id: int
    slot: str | None
    trigger_at: datetime
    updated_at: datetime
    #: Unknown until a start refreshes it (and then written).
    trigger: dict[str, Any] | None = None
    state: str = ACTIVE
    stored: bool = True


def unsettled(run: Run) -> bool:
    """Whether the run was started in this batch and is not inserted nor advanced yet."""
    return not run.id


@dataclass(slots=True)
class Known:
    """What a batch (a worker pass) read ahead, so each start need not ask: for the
    (flow, contact) pairs of ``flows`` × ``contacts``, their active runs by slot and their
    last start by key; per flow, which of the batch's contacts pass its entry filter."""

    #: The pairs read ahead: every one of these flows with every one of these contacts
    #: (two sets, not their product: a pass's 5 flows × 4,000 contacts were 20,000 tuples).
    flows: set[int]
    contacts: set[int]
    runs: dict[tuple[int, int, str], Run | Held]
    #: The last start by (flow, contact, key), and by (flow, contact, :data:`CONTACT`).
    starts: dict[tuple[int, int, str], datetime]
    filters: dict[int, set[int]]
    #: Per trigger with a ``where`` (by ``id``), the batch's events that pass it.
    wheres: dict[int, set[Any]] = field(default_factory=dict)
    #: Runs started but not yet inserted and advanced (:func:`settle`).
    pending: list[tuple[Run, Definition]] = field(default_factory=list)
    #: The batch's writes (:func:`batch_writes`), at hand for each start.
    writes: Writes | None = None


def settle(session: Session, known: Known, now: datetime) -> None:
    """Give the batch's new runs their ids (or insert them in one flush, outside a batch
    that gathers its writes), then announce and advance each, in the order they started."""
    if not known.pending:
        return
    pending, known.pending = known.pending, []
    writes = _writes(session)
    if writes is not None:
        new = [run for run, _ in pending if isinstance(run, NewRun)]
        for row, run_id in zip(new, _new_ids(session, writes, len(new)), strict=True):
            row.id = run_id
            writes.inserted[run_id] = row
    else:
        session.flush()
    # Whether a store's webhook subscriptions take the runs' starts: asked once per store.
    announced: dict[int, bool] = {}
    for run, definition in pending:
        wanted = announced.get(run.store_id)
        if wanted is None:
            wanted = _wanted(session, run.store_id, outbox.FLOW_RUN_STARTED)
            announced[run.store_id] = wanted
        if wanted:
            _emit(session, run, outbox.FLOW_RUN_STARTED)
        advance(session, run, definition, now)


def _new_ids(session: Session, writes: Writes, count: int) -> list[int]:
    """Ids for ``count`` new runs. PostgreSQL: drawn from the table's sequence in one
    query. SQLite: the ones after the highest, in the transaction that holds the database's
    only write lock (``BEGIN IMMEDIATE``), counting those this batch drew before."""
    if not count:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # One row holding an array (psycopg reads it in C), not a row per id. The sequence
        # named as a constant: ``pg_get_serial_sequence`` was looked up again for every id
        # (10 µs an id, against 1).
        drawn = connection.exec_driver_sql(
            "SELECT array_agg(nextval('flow_runs_id_seq'::regclass) ORDER BY n)"
            " FROM generate_series(1, %(count)s) AS n",
            {"count": count},
        ).scalar_one()
        return list(drawn)
    highest = connection.execute(select(func.max(_RUNS.c.id))).scalar() or 0
    if writes.highest is None:
        writes.highest = highest
    first = max(highest, writes.last_id) + 1
    writes.last_id = first + count - 1
    return list(range(first, first + count))


def definition_of(session: Session, flow_id: int, version: int) -> Definition:
    """A published version, parsed once per process (versions never change)."""
    mine: dict[tuple[int, int], Definition] = session.info.setdefault(_PARSED, {})
    found = mine.get((flow_id, version))
    if found is not None:
        return found
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    cache_key = (str(engine.url), flow_id, version)
    found = _DEFINITIONS.get(cache_key)
    if found is None:
        row = session.get(FlowVersion, (flow_id, version))
        if row is None:
            raise LookupError(f"flow {flow_id} has no version {version}")
        found = parse_definition(row.definition)
        if len(_DEFINITIONS) >= _DEFINITIONS_MAX:
            _DEFINITIONS.clear()
        _DEFINITIONS[cache_key] = found
    mine[(flow_id, version)] = found
    return found


def idempotency_key(run: Run) -> str:
    """The key of what the run's current step visit queues."""
    return f"flow:{run.flow_id}:run:{run.id}:step:{run.seq}"


# -- starting --------------------------------------------------------------------------------


def start(
    session: Session,
    flow: Flow,
    definition: Definition,
    begin: Start,
    now: datetime,
    *,
    test: bool = False,
    version: int | None = None,
    known: Known | None = None,
) -> Run | None:
    """Start a run if the entry rules let the contact in, and advance it; None if not. A
    trigger for a key that already has an active run (one active run per key) refreshes that
    run's trigger moment instead: ``"since": "trigger"`` then counts from the latest one."""
    version = version if version is not None else flow.version
    assert version is not None
    store_id, flow_id = flow.store_id, flow.id
    # The batch's writes: at hand in ``known`` (a start per event of a pass asks).
    batch = known.writes if known is not None else None
    if batch is None:
        batch = _writes(session)
    contact = _contact(session, begin.contact_id, batch)
    if not _active(contact, store_id):
        return None
    entry = definition.entry
    pair = (flow_id, begin.contact_id)
    if known is not None and (
        test or flow_id not in known.flows or begin.contact_id not in known.contacts
    ):
        known = None
    if entry.filter is not None:
        if known is not None and flow_id in known.filters:
            passes = begin.contact_id in known.filters[flow_id]
        else:
            passes = matching.holds(session, store_id, begin.contact_id, entry.filter, now)
        if not passes:
            return None
    slot = begin.key if entry.per_key == "one_active" and not test else None
    if slot is not None:
        if known is not None:
            current = known.runs.get((*pair, slot))
            if current is not None and (current.state != ACTIVE or current.slot != slot):
                current = None
        else:
            current = _active_run(session, flow_id, begin.contact_id, slot)
        if current is not None:
            if begin.at > current.trigger_at:
                current.trigger_at = begin.at
                current.trigger = begin.trigger
                current.updated_at = now
                if batch is not None and (isinstance(current, FlowRun) or current.stored):
                    # Written with the batch, not by the session's flush (a plan's session
                    # may not write, :func:`batch_writes`). A run the batch starts is
                    # inserted as it is.
                    batch.refreshed[current.id] = current
            return None
    # The last start that counts for re-entry: of this key, or of any key of the contact.
    counted = begin.key if entry.reentry_per == "key" else CONTACT
    if not test and entry.reentry != "always":
        if known is not None:
            last = known.starts.get((*pair, counted))
        else:
            query = select(func.max(FlowRun.started_at)).where(
                FlowRun.flow_id == flow_id,
                FlowRun.contact_id == begin.contact_id,
                FlowRun.test.is_(False),
            )
            if entry.reentry_per == "key":
                query = query.where(FlowRun.key == begin.key)
            last = session.execute(query).scalar_one()
        if last is not None and (
            entry.reentry == "never"
            or (entry.cooldown is not None and _aware(last) > now - entry.cooldown)
        ):
            return None
    run: Run
    if known is not None and batch is not None:
        run = NewRun(
            store_id=store_id,
            flow_id=flow_id,
            version=version,
            contact_id=begin.contact_id,
            key=begin.key,
            slot=slot,
            step=definition.start,
            step_at=now,
            trigger_at=begin.at,
            trigger=begin.trigger,
            started_at=now,
            updated_at=now,
        )
    else:
        run = FlowRun(
            store_id=store_id,
            flow_id=flow_id,
            version=version,
            contact_id=begin.contact_id,
            key=begin.key,
            slot=slot,
            state=ACTIVE,
            step=definition.start,
            step_at=now,
            seq=1,
            trigger_at=begin.at,
            trigger=begin.trigger,
            test=test,
            started_at=now,
            updated_at=now,
        )
    if known is not None:
        # The batch knows every active run of the pair (locked on PostgreSQL): its new runs
        # are inserted together and advanced by :func:`settle`. A run another worker
        # started meanwhile for the same key makes that insert fail: the queue then handles
        # the pass's events one by one, and the one that raced is retried later and finds
        # the other run.
        if isinstance(run, FlowRun):
            session.add(run)
        known.pending.append((run, definition))
        known.starts[(*pair, begin.key)] = now
        known.starts[(*pair, CONTACT)] = now
        if slot is not None:
            known.runs[(*pair, slot)] = run
        return run
    assert isinstance(run, FlowRun)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None  # another worker started this key's run first
    if not test:
        _announce(session, run, outbox.FLOW_RUN_STARTED)
    advance(session, run, definition, now, fast=test)
    return run


def _active_run(session: Session, flow_id: int, contact_id: int, slot: str) -> FlowRun | None:
    query = select(FlowRun).where(
        FlowRun.flow_id == flow_id, FlowRun.contact_id == contact_id, FlowRun.slot == slot
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


# -- advancing -------------------------------------------------------------------------------


def advance(
    session: Session, run: Run, definition: Definition, now: datetime, *, fast: bool = False
) -> None:
    """Run the run's steps until it waits or ends. ``fast`` (a test run): waits pass at
    once, a wait for an event that has not happened takes its timeout exit."""
    if run.state != ACTIVE:
        return
    writes = _writes(session)
    if writes is not None:
        writes.runs[run.id] = run
    contact = _contact(session, run.contact_id)
    if not _active(contact, run.store_id):
        _end(session, run, EXITED, "The contact was deleted or merged into another.", now)
        return
    assert contact is not None
    exited = _exit_event(session, run, definition, now)
    if exited is not None:
        _end(session, run, EXITED, exited, now)
        return
    for _ in range(MAX_STEPS_PER_ADVANCE):
        if run.state != ACTIVE:
            return
        step = definition.steps.get(run.step or "")
        if step is None:
            _end(
                session, run, FAILED, f"The step {run.step!r} is not in version {run.version}.", now
            )
            return
        target = _perform(session, run, definition, step, contact, now, fast)
        if target is None:
            return  # waiting, or ended
        _arrive(run, target, now)
    run.wake_at = now  # a very long chain: the sweep continues it


def _perform(
    session: Session,
    run: Run,
    definition: Definition,
    step: Step,
    contact: Contact | Who,
    now: datetime,
    fast: bool,
) -> str | None:
    """Do ``step``; the step to go to next, or None when the run waits or ended."""
    kind = step.type
    if kind in _WRITING:
        writes = _writes(session)
        if writes is not None and writes.read_only:
            raise Unplannable(kind)
    if kind == "wait":
        if run.waiting is None:
            deadline = now if fast else _wait_until(step, contact, now)
            if deadline <= now:
                _log(session, run, step, "done", now, detail=_shortened(fast, step))
                return step.next
            _sleep(session, run, step, {"kind": "timer"}, deadline, now)
            return None
        assert run.deadline is not None
        if now >= run.deadline:
            _close(session, run, "done", now)
            return step.next
        run.wake_at = run.deadline
        return None
    if kind == "wait_for_event":
        assert step.wait is not None and step.timeout is not None
        since = run.trigger_at if step.wait.since == "trigger" else (run.step_at or run.started_at)
        found = matching.find(
            session, run.store_id, run.contact_id, step.wait, since, now, run.key, run.trigger
        )
        detail = {"event": str(found.id), "name": found.name} if found is not None else {}
        if found is not None:
            if run.waiting is None:
                _log(session, run, step, "done", now, reason="The event happened.", detail=detail)
            else:
                _close(session, run, "done", now, reason="The event happened.", detail=detail)
            return step.on_event
        if run.waiting is None:
            if fast or step.timeout <= timedelta(0):
                _log(
                    session,
                    run,
                    step,
                    "done",
                    now,
                    reason="Timed out.",
                    detail=_shortened(fast, step),
                )
                return step.on_timeout
            waiting = {"kind": "event", "event": step.wait.event.as_json()}
            _sleep(session, run, step, waiting, now + step.timeout, now)
            return None
        assert run.deadline is not None
        if now >= run.deadline:
            _close(session, run, "done", now, reason="Timed out.")
            return step.on_timeout
        run.wake_at = run.deadline
        return None
    if kind == "branch":
        assert step.condition is not None
        taken = matching.holds(session, run.store_id, run.contact_id, step.condition, now)
        _log(session, run, step, "done", now, detail={"branch": "then" if taken else "else"})
        return step.then if taken else step.otherwise
    if kind == "exit":
        _log(session, run, step, "done", now)
        _end(session, run, DONE, None, now)
        return None
    if kind in ("send_email", "send_sms"):
        return _send(session, run, definition, step, now)
    if run.test:
        _log(session, run, step, "skipped", now, reason="A test run changes nothing but sends.")
        return step.next
    if kind == "send_webhook":
        return _webhook(session, run, step, _whole(session, contact), now)
    if kind == "update_profile":
        fields = {k: v for k, v in step.set if not k.startswith("customFields.")}
        custom = {
            k[len("customFields.") :]: v for k, v in step.set if k.startswith("customFields.")
        }
        changed = contacts.set_fields(session, _whole(session, contact), fields, custom)
        _log(session, run, step, "done", now, detail={"changed": changed})
        return step.next
    assert step.list_id is not None
    try:
        if kind == "add_to_list":
            lists.add_contacts(
                session, run.store_id, step.list_id, SubscriberListContacts(contactIds=[contact.id])
            )
        else:
            lists.remove_contact(session, run.store_id, step.list_id, contact.id)
    except NotFound as exc:
        _log(session, run, step, "skipped", now, reason=exc.message)
        return step.next
    _log(session, run, step, "done", now, detail={"list": step.list_id})
    return step.next


#: The steps that write more than the run and its step log.
_WRITING = frozenset(
    {"send_email", "send_sms", "send_webhook", "update_profile", "add_to_list", "remove_from_list"}
)


def _send(
    session: Session, run: Run, definition: Definition, step: Step, now: datetime
) -> str | None:
    assert step.template is not None
    entry = definition.entry
    if entry.filter is not None and not matching.holds(
        session, run.store_id, run.contact_id, entry.filter, now
    ):
        _log(session, run, step, "skipped", now, reason="The entry filter no longer holds.")
        return step.next
    channel = "email" if step.type == "send_email" else "sms"
    sender = sending.sender()
    found = sender.channel_of(session, run.store_id, step.template)
    if found != channel:
        reason = (
            f"The template {step.template} does not exist."
            if found is None
            else f"The template {step.template} is for {found}."
        )
        _log(session, run, step, "skipped", now, reason=reason)
        return step.next
    context = {
        **stored_trigger.whole(session, run.store_id, run.trigger),
        "key": run.key,
        "flow": {"id": run.flow_id, "runId": run.id, "version": run.version, "step": step.id},
    }
    queued = sender.send(
        session,
        store_id=run.store_id,
        template_id=step.template,
        contact_id=run.contact_id,
        context=context,
        idempotency_key=idempotency_key(run),
    )
    if queued.skipped is not None:
        _log(session, run, step, "skipped", now, reason=queued.skipped)
    else:
        _log(session, run, step, "done", now, detail={"messageId": queued.message_id})
    return step.next


def _webhook(session: Session, run: Run, step: Step, contact: Contact, now: datetime) -> str | None:
    assert step.webhook is not None
    subscription = webhooks.get_subscription(session, run.store_id, step.webhook)
    if subscription is None or subscription.status == webhooks.DISABLED:
        why = "does not exist" if subscription is None else "is disabled"
        _log(session, run, step, "skipped", now, reason=f"The webhook {step.webhook} {why}.")
        return step.next
    message_id = "msg_" + uuid.uuid5(_NAMESPACE, idempotency_key(run)).hex
    listener = fanout.Listener(subscription.id, frozenset({FLOW_WEBHOOK}), None)
    body = {
        "flowId": run.flow_id,
        "runId": run.id,
        "version": run.version,
        "step": step.id,
        "contact": contacts.view(session, contact).model_dump(mode="json"),
        "trigger": stored_trigger.whole(session, run.store_id, run.trigger),
    }
    fanout.enqueue(session, run.store_id, [listener], FLOW_WEBHOOK, body, now, message_id)
    _log(session, run, step, "done", now, detail={"webhook": step.webhook, "messageId": message_id})
    return step.next


# -- exits -----------------------------------------------------------------------------------


def _exit_event(session: Session, run: Run, definition: Definition, now: datetime) -> str | None:
    """Why the run must end now (an ``exitOn`` event in the log), or None."""
    for wait in definition.exit_on:
        since = run.trigger_at if wait.since == "trigger" else run.started_at
        found = matching.find(
            session, run.store_id, run.contact_id, wait, since, now, run.key, run.trigger
        )
        if found is not None:
            return f"exitOn: {found.name} at {found.occurred_at.isoformat()}"[:300]
    return None


def end(session: Session, run: Run, state: str, reason: str | None, now: datetime) -> None:
    """End an active run wherever it is (the flow deleted, …)."""
    if run.state == ACTIVE:
        _end(session, run, state, reason, now)


def _end(session: Session, run: Run, state: str, reason: str | None, now: datetime) -> None:
    writes = _writes(session)
    if writes is not None:
        writes.runs[run.id] = run
    if state != DONE:
        # Where the run stood: the visit it waited in, ended so; or, at a step it had not
        # done yet, a visit of its own (an exit before the step).
        if run.waiting is not None:
            _close(session, run, state, now, reason=reason)
        elif run.step is not None:
            _insert(session, run, run.step, "exit", state, now, reason, {})
    run.state = state
    run.reason = reason
    run.finished_at = now
    run.updated_at = now
    run.slot = None
    run.waiting = None
    run.deadline = None
    run.wake_at = None
    if not run.test:
        _announce(session, run, outbox.FLOW_RUN_FINISHED)


def batch_messages(session: Session) -> None:
    """Gather the run messages of what follows, for :func:`emit_batched` to write in one
    statement (a sweep batch); a rolled-back savepoint drops them with the queue's deferred
    work."""
    deferred(session)[_BATCH] = []


def emit_batched(session: Session) -> None:
    outbox.emit_many(session.connection(), batched_messages(session))


def batched_messages(session: Session) -> list[tuple[int, str, dict[str, Any]]]:
    """The run messages gathered since :func:`batch_messages`, for the caller to write."""
    pending: list[tuple[int, str, dict[str, Any]]] = deferred(session).pop(_BATCH, [])
    return pending


def discard_batch(session: Session) -> None:
    """Forget what a batch gathered (its writes and messages), to do it over."""
    deferred(session).pop(_WRITES, None)
    deferred(session).pop(_BATCH, None)


def _announce(session: Session, run: Run, topic: str) -> None:
    """The run's state change as an outbox message, if one of the store's webhook
    subscriptions takes it: nothing else reads these, and writing and then consuming two
    messages per run for nobody was a sixth of what starting a run cost the worker."""
    if _wanted(session, run.store_id, topic):
        _emit(session, run, topic)


def _emit(session: Session, run: Run, topic: str) -> None:
    """Write the run's state change to the outbox (with the batch's messages, if any)."""
    payload = _payload(run)
    pending: list[tuple[int, str, dict[str, Any]]] | None = deferred(session).get(_BATCH)
    if pending is not None:
        pending.append((run.store_id, topic, payload))
    else:
        # On the connection: no flush of the session for one message.
        outbox.emit(session.connection(), run.store_id, topic, payload)


def _wanted(session: Session, store_id: int, topic: str) -> bool:
    """Whether one of the store's webhook subscriptions takes run messages of ``topic``."""
    return any(listener.wants(topic) for listener in fanout.listeners(session, store_id))


#: The run columns a batch writes back (everything starting or advancing a run changes).
_RUN_COLUMNS = (
    "state",
    "step",
    "step_at",
    "seq",
    "waiting",
    "deadline",
    "wake_at",
    "reason",
    "finished_at",
    "updated_at",
    "slot",
)
#: The columns of a new run.
_NEW_RUN_COLUMNS = (
    *_RUN_COLUMNS,
    "store_id",
    "flow_id",
    "version",
    "contact_id",
    "key",
    "trigger_at",
    "trigger",
    "test",
    "started_at",
)
_NEW_RUN_ROW = ("id", *_NEW_RUN_COLUMNS)
#: What a later event of a run's key changes (:func:`start`): written alone for a run the
#: batch did not advance, so that on PostgreSQL the update is a HOT one (no indexed column
#: written, room kept on the table's pages: ``models/flow_run.py``) and on SQLite it
#: touches no index.
_REFRESH_COLUMNS = ("trigger_at", "trigger", "updated_at")
#: And those of a run both advanced and refreshed.
_TRIGGER_COLUMNS = (*_RUN_COLUMNS, "trigger_at", "trigger")
_STEP_COLUMNS = (
    "run_id",
    "seq",
    "flow_id",
    "step",
    "type",
    "entered_at",
    "status",
    "reason",
    "detail",
    "finished_at",
)
_STEPS: Table = FlowRunStep.__table__  # type: ignore[assignment]
_RUNS: Table = FlowRun.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class Writes:
    """What a batch of runs writes, gathered as it advances them and written by
    :func:`write_batched`: the new runs and the step log's new rows (the log is only ever
    appended to), then an UPDATE (many parameter sets) of the runs changed. The visits are
    plain rows, not ORM objects: the unit of work's bookkeeping per row was 40 % of a
    wake-up under the profiler."""

    #: The step log rows the batch adds: the visits it ended.
    visits: list[dict[str, Any]] = field(default_factory=list)
    #: The runs advanced or ended, by id, written back from their attributes.
    runs: dict[int, Run] = field(default_factory=dict)
    #: The batch's new runs, by id, inserted as advancing them left them.
    inserted: dict[int, NewRun] = field(default_factory=dict)
    #: The highest id drawn for a new run (SQLite: they are inserted at the end).
    last_id: int = 0
    #: SQLite: the highest run id in the table when the batch first drew ids (the ids it
    #: drew follow it, so a plan's are still free while it is the highest).
    highest: int | None = None
    #: Whether the batch is planned where it may not write (SQLite's read transaction,
    #: ``worker/queue.py``): a step that writes more than the batch's own rows (a send, a
    #: profile or list change) raises :class:`Unplannable` instead.
    read_only: bool = False
    #: The runs read whose trigger moment a later event of their key moved, by id.
    refreshed: dict[int, Run | Held] = field(default_factory=dict)
    #: The batch's contacts, read ahead as :class:`Who` (the whole row is loaded only for
    #: a step that changes or sends it).
    contacts: dict[int, Contact | Who] = field(default_factory=dict)


class Unplannable(Exception):
    """A run reached a step that writes more than the batch's rows, in a batch planned
    where it may not write (:attr:`Writes.read_only`)."""


def batch_writes(session: Session, *, read_only: bool = False) -> Writes:
    """Gather the step log and run writes of what follows (a sweep batch, a pass's
    events) for :func:`write_batched`; a rolled-back savepoint drops them with the queue's
    deferred work."""
    writes = Writes(read_only=read_only)
    deferred(session)[_WRITES] = writes
    return writes


def _writes(session: Session) -> Writes | None:
    found: Writes | None = deferred(session).get(_WRITES)
    return found


class Who(NamedTuple):
    """What every start and advance reads of a contact (is it still there, its time zone),
    without loading the whole row (a named tuple: built from each row in C)."""

    id: int
    store_id: int
    deleted_at: datetime | None
    merged_into_id: int | None
    timezone: str | None


#: The advisory lock space of flows' per-contact locks (PostgreSQL): "flow" in ASCII.
CONTACT_LOCKS = 0x666C6F77


def hold_contacts(session: Session, contact_ids: list[int]) -> None:
    """PostgreSQL: take each contact's flows lock, held until the transaction ends, in id
    order (so two holders never wait for each other in a circle). Two passes at once
    (several workers, or a worker's loops) that both start or advance one contact's runs
    then take turns, and the second reads the runs the first started: without it both
    could start a run of a flow that lets a contact, or a key, in once, or once in a while
    (re-entry ``never`` or after a cool-down), none of which a unique index can say.
    The timer sweep takes them too, without waiting (:func:`try_hold_contacts`): a pass
    holding a contact's lock reads that contact's runs as no sweep is changing them, so it
    locks only the runs it writes. Nothing else takes these locks (ingest does not wait on
    them). On SQLite passes take turns already (the worker lease)."""
    if not contact_ids or matching.dialect(session) != "postgresql":
        return
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(:space, id)) "
            "FROM unnest(CAST(:ids AS INTEGER[])) AS id"
        ),
        {"space": CONTACT_LOCKS, "ids": array_text(sorted(set(contact_ids)))},
    )


def try_hold_contacts(session: Session, contact_ids: list[int]) -> set[int]:
    """The contacts whose flows lock (:func:`hold_contacts`) this transaction now holds, of
    these: each taken if free, never waited for (so the sweep, which takes them after its
    runs' row locks, and a pass, which takes them before, never wait for each other in a
    circle). On SQLite all of them."""
    if not contact_ids or matching.dialect(session) != "postgresql":
        return set(contact_ids)
    return set(
        session.execute(
            text(
                "SELECT id FROM unnest(CAST(:ids AS INTEGER[])) AS id "
                "WHERE pg_try_advisory_xact_lock(:space, id)"
            ),
            {"space": CONTACT_LOCKS, "ids": array_text(sorted(set(contact_ids)))},
        ).scalars()
    )


def read_contacts(session: Session, contact_ids: list[int]) -> None:
    """Read what the batch's starts and advances need of these contacts, in one query."""
    writes = _writes(session)
    assert writes is not None
    rows = matching.core(
        session,
        select(
            Contact.id,
            Contact.store_id,
            Contact.deleted_at,
            Contact.merged_into_id,
            Contact.timezone,
        ).where(among(matching.dialect(session), Contact.id, contact_ids)),
    )
    writes.contacts.update((who.id, who) for who in map(Who._make, rows))


def _contact(
    session: Session, contact_id: int, writes: Writes | None = None
) -> Contact | Who | None:
    """The contact as the batch read it (``writes``: the batch's, if the caller has it at
    hand), or its row."""
    if writes is None:
        writes = _writes(session)
    found = writes.contacts.get(contact_id) if writes is not None else None
    return found if found is not None else session.get(Contact, contact_id)


def _whole(session: Session, contact: Contact | Who) -> Contact:
    """The contact's row, for a step that changes or sends it."""
    if isinstance(contact, Contact):
        return contact
    found = session.get(Contact, contact.id)
    assert found is not None
    return found


def batching(session: Session) -> bool:
    """Whether the session gathers its runs' writes (:func:`batch_writes`)."""
    return _writes(session) is not None


def write_batched(session: Session) -> None:
    """Write what the batch gathered, then let the session forget the runs it wrote (their
    rows now hold what their attributes do)."""
    prepared = prepare_batched(session)
    if prepared is not None:
        prepared.execute(session.connection())


class Insert(NamedTuple):
    """New rows for :meth:`BulkInsert.insert`: on PostgreSQL with the columns' types, so
    that it copies them in binary."""

    table: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    types: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Statements:
    """A batch's writes, ready for the driver, every value already converted (JSON, the
    engine's moments): the new rows as (table, columns, rows) for :class:`BulkInsert`
    (PostgreSQL: ``COPY``), the changes as each statement's text and its parameter sets.
    Executing them is all that is left for the write transaction
    (:func:`prepare_batched`)."""

    inserts: list[Insert]
    statements: list[tuple[str, list[Any]]]

    def execute(self, connection: Connection) -> None:
        bulk = BulkInsert(connection)
        for table, columns, rows, types in self.inserts:
            bulk.insert(table, columns, rows, types)
        for statement, params in self.statements:
            connection.exec_driver_sql(statement, params)


def prepare_batched(session: Session) -> Statements | None:
    """What the batch gathered (:func:`batch_writes`) as statements for the driver, in
    up to five: the new runs, the new step log rows and the runs changed (those advanced,
    those advanced and refreshed by a later event of their key, those only refreshed: their
    trigger columns alone). The session forgets the runs they write (their rows will hold
    what their attributes do). None if nothing was gathered."""
    writes: Writes | None = deferred(session).pop(_WRITES, None)
    if writes is None:
        return None
    dialect = session.get_bind().dialect
    # New rows through BulkInsert: on PostgreSQL a COPY, where a pipelined executemany
    # (a statement execution per row on the server) was half of a pass's wall time with
    # live flows; a multi-row INSERT's text, parsed by psycopg, cost more still.
    inserts: list[Insert] = []
    if writes.inserted:
        started = list(writes.inserted.values())
        inserts.append(_insert_rows(dialect, _RUNS, _NEW_RUN_ROW, started, attrgetter))
    if writes.visits:
        inserts.append(_insert_rows(dialect, _STEPS, _STEP_COLUMNS, writes.visits, itemgetter))
    statements: list[tuple[str, list[Any]]] = []
    advanced = [run for run in writes.runs.values() if run.id not in writes.inserted]
    refreshed = writes.refreshed
    only_refreshed = [run for run_id, run in refreshed.items() if run_id not in writes.runs]
    # A run only refreshed is written while it is still active: one the pass read as
    # :class:`Held` is not locked (PostgreSQL), and the API may have ended it since.
    for columns, group, active in (
        (_RUN_COLUMNS, [run for run in advanced if run.id not in refreshed], False),
        (_TRIGGER_COLUMNS, [run for run in advanced if run.id in refreshed], False),
        (_REFRESH_COLUMNS, only_refreshed, True),
    ):
        if not group:
            continue
        if dialect.name == "postgresql":
            statements.append(_update_from_json(_RUNS, columns, group, active=active))
            continue
        changed = update(_RUNS).where(_RUNS.c.id == bindparam("k_id"))
        if active:
            changed = changed.where(_RUNS.c.state == bindparam("k_state"))
        statements.append(
            _driver(dialect, changed.values(_binds(_RUNS, columns)), group, attrgetter)
        )
    for run in [*advanced, *only_refreshed]:
        if isinstance(run, FlowRun) and run in session:
            session.expunge(run)
    return Statements(inserts, statements)


def _driver(
    dialect: Dialect, statement: Any, rows: list[Any], read: Callable[..., Any]
) -> tuple[str, list[Any]]:
    """``statement`` (its parameters named ``v_<column>`` for values and ``k_<column>`` for
    keys) as the driver's text and one parameter set per row, its values read with ``read``
    (``attrgetter`` or ``itemgetter``) and converted as SQLAlchemy would (the same bind
    processors): a statement run through SQLAlchemy with thousands of parameter sets spent
    more in its per-set bookkeeping than in converting the values."""
    compiled = statement.compile(dialect=dialect)
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    converts = []
    for index, name in enumerate(names):
        if not name.startswith(("v_", "k_")):
            raise ValueError(f"a batched statement has a parameter {name!r} it does not fill")
        convert = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converts.append((index, convert))
    values = read(*(name[2:] for name in names)) if len(names) > 1 else _one(read(names[0][2:]))
    params: list[Any] = []
    for row in rows:
        found = list(values(row))
        for index, convert in converts:
            found[index] = convert(found[index])
        params.append(tuple(found) if compiled.positional else dict(zip(names, found, strict=True)))
    return compiled.string, params


def _update_from_json(
    table: Table, columns: tuple[str, ...], rows: list[Any], *, active: bool = False
) -> tuple[str, list[Any]]:
    """PostgreSQL: ``columns`` of ``rows`` (by id) in one ``UPDATE … FROM
    json_populate_recordset(…)``: the rows as one JSON document (encoded by msgspec), which
    the server reads into the table's own row type, so each value gets its column's type.
    A statement with a parameter set per row is, even pipelined, an execution per row on
    the server: 30–35 µs a run under the flows bench, where a pass refreshes thousands of
    runs' triggers. (One array parameter per column, as before, had psycopg quote and
    escape each JSON value into the array's text in Python: a sixth of the worker's time
    under that bench.)

    The ids are named twice, the second time as ``id = ANY(…)`` on the table: the planner
    then reads the rows through the primary key. Joined only to the row set, it hashed the
    whole table for a pass's few thousand rows (a sequential scan of every run, 24 of the
    32 ms of 2,000 runs' update among 90,000). With ``active``, only rows still active
    (each row's own state, as read: :data:`ACTIVE`) are written: the state is in the
    document and compared as a join condition. Under statistics taken while every run had
    finished, "still active" as a constant on the column had the planner read every
    active run through an index that has the state, once per run written (1.6 s for 2,000
    runs among 20,000 active); as a constant on an expression, it misjudged how many runs
    the ids find and compared each with each row (219 ms for 1,400 among 150,000, against
    30; ``tests/flows/test_query_plans.py``)."""
    names = ("id", *columns, *(("state",) if active else ()))
    read = attrgetter(*names)
    document = msgspec.json.encode([dict(zip(names, read(row), strict=True)) for row in rows])
    ids = array_text(row.id for row in rows)
    sets = ", ".join(f'"{name}" = v."{name}"' for name in columns)
    statement = (
        f"UPDATE {table.name} SET {sets} "
        f"FROM json_populate_recordset(NULL::{table.name}, %s::json) AS v"
        f" WHERE {table.name}.id = v.id AND {table.name}.id = ANY(%s::integer[])"
    )
    if active:
        statement += f" AND {table.name}.state = v.state"
    return statement, [(document.decode(), ids)]


def _insert_rows(
    dialect: Dialect,
    table: Table,
    columns: tuple[str, ...],
    rows: list[Any],
    read: Callable[..., Any],
) -> Insert:
    """``rows``' values of ``columns`` (read with ``read``), each converted by its column's
    bind processor, as tuples for :class:`BulkInsert`, with the columns' types on
    PostgreSQL. Converted a column at a time (``map`` over it, the rows turned to columns
    and back by ``zip``): a Python loop over each row's values cost 8.1 µs a run against
    6.5 (3,000 runs, SQLite's processors)."""
    types = None
    if dialect.name == "postgresql":
        compiler = dialect.type_compiler_instance
        types = tuple(
            compiler.process(table.c[name].type.dialect_impl(dialect)).split("(")[0].lower()
            for name in columns
        )
    converts = []
    for index, name in enumerate(columns):
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converts.append((index, convert))
    found: list[tuple[Any, ...]] = list(map(read(*columns), rows))
    if converts and found:
        by_column = list(zip(*found, strict=True))
        for index, convert in converts:
            by_column[index] = tuple(map(convert, by_column[index]))
        found = list(zip(*by_column, strict=True))
    return Insert(table.name, columns, found, types)


def _one(value: Callable[[Any], Any]) -> Callable[[Any], tuple[Any]]:
    return lambda row: (value(row),)


def _binds(table: Table, columns: tuple[str, ...]) -> dict[str, BindParameter[Any]]:
    """The values of a statement with many parameter sets, each column ``c`` from the
    parameter ``v_c`` (a batch's rows share their moments: :class:`UTCDateTime` converts
    each once per statement)."""
    return {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in columns}


def _payload(run: Run) -> dict[str, Any]:
    return {
        "flow_id": run.flow_id,
        "run_id": run.id,
        "version": run.version,
        "contact_id": run.contact_id,
        "key": run.key,
        "state": run.state,
        "reason": run.reason,
    }


# -- the step log ----------------------------------------------------------------------------
#
# The log holds a run's visits to its steps, each written once, whole, when the visit ends. A
# visit that waits (a timer, an awaited event) has no row while it waits: the run's own
# columns hold it (its step, visit number, since when, until when), and
# :func:`waiting_visit` reads it from there for the run's page and the figures. Starting a
# run that waits thus writes the run alone; its wake-up adds one row.

#: The step type of a waiting visit, by what it waits for (``FlowRun.waiting["kind"]``).
_WAITING_TYPES = {"timer": "wait", "event": "wait_for_event"}


def _arrive(run: Run, step_id: str, now: datetime) -> None:
    run.step = step_id
    run.step_at = now
    run.seq += 1
    run.waiting = None
    run.deadline = None
    run.wake_at = None
    run.updated_at = now


def _sleep(
    session: Session,
    run: Run,
    step: Step,
    waiting: dict[str, Any],
    deadline: datetime,
    now: datetime,
) -> None:
    """The run waits in ``step`` until ``deadline`` (its visit is written when it ends)."""
    run.waiting = waiting
    run.deadline = deadline
    run.wake_at = deadline
    run.updated_at = now


def waiting_visit(run: Run) -> dict[str, Any] | None:
    """The visit an active run is waiting in, as the step log row it will be when it ends
    (status ``waiting``, not finished); None if the run is not waiting."""
    if run.state != ACTIVE or run.waiting is None or run.step is None:
        return None
    return _visit(
        run,
        run.step,
        _WAITING_TYPES.get(str(run.waiting.get("kind")), "wait"),
        "waiting",
        run.step_at or run.started_at,
        None,
        None,
        {"until": run.deadline.isoformat()} if run.deadline is not None else {},
    )


def _log(
    session: Session,
    run: Run,
    step: Step,
    status: str,
    now: datetime,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    _insert(session, run, step.id, step.type, status, now, reason, detail or {})


def _close(
    session: Session,
    run: Run,
    status: str,
    now: datetime,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """End the visit the run waited in: its row is written now, from when it began."""
    visit = waiting_visit(run)
    if visit is None:
        return
    visit["status"] = status
    visit["reason"] = reason[:300] if reason else None
    visit["finished_at"] = now
    if detail:
        visit["detail"] = {**visit["detail"], **detail}
    _add(session, visit)


def _insert(
    session: Session,
    run: Run,
    step_id: str,
    kind: str,
    status: str,
    now: datetime,
    reason: str | None,
    detail: dict[str, Any],
) -> None:
    """A visit begun and ended now."""
    _add(session, _visit(run, step_id, kind, status, now, now, reason, detail))


def _visit(
    run: Run,
    step_id: str,
    kind: str,
    status: str,
    entered_at: datetime,
    finished_at: datetime | None,
    reason: str | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "seq": run.seq,
        "flow_id": run.flow_id,
        "step": step_id,
        "type": kind,
        "status": status,
        "reason": reason[:300] if reason else None,
        "detail": detail,
        "entered_at": entered_at,
        "finished_at": finished_at,
    }


def _add(session: Session, visit: dict[str, Any]) -> None:
    """Append a visit to the step log: with the batch's writes, or to the session."""
    writes = _writes(session)
    if writes is not None:
        writes.visits.append(visit)
    else:
        session.add(FlowRunStep(**visit))


def _shortened(fast: bool, step: Step) -> dict[str, Any]:
    return {"shortened": True} if fast else {}


# -- time ------------------------------------------------------------------------------------


def _wait_until(step: Step, contact: Contact | Who, now: datetime) -> datetime:
    if step.duration is not None:
        return now + step.duration
    assert step.at is not None
    name = contact.timezone if valid_zone(contact.timezone) else step.zone
    zone = ZoneInfo(name or "UTC")
    local = now.astimezone(zone)
    moment = local.replace(hour=step.at.hour, minute=step.at.minute, second=0, microsecond=0)
    if moment < local:
        moment = (local + timedelta(days=1)).replace(
            hour=step.at.hour, minute=step.at.minute, second=0, microsecond=0
        )
    return moment.astimezone(now.tzinfo)


def _active(contact: Contact | Who | None, store_id: int) -> bool:
    return (
        contact is not None
        and contact.store_id == store_id
        and contact.deleted_at is None
        and contact.merged_into_id is None
    )


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
