"""Time: the sweep of due runs, and date triggers.

- **Timers.** A run that waits has ``wake_at``; each call of :class:`SweepTask` advances up
  to ``SWEEP_BATCH`` due runs of live flows, oldest first, in one transaction (a paused
  flow's due runs are held: their timers are cleared until it resumes), claimed with
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so any number of workers share them without
  running a step twice. The batch reads ahead what its runs will read (their contacts, the
  events of each exit or awaited-event condition: one query per condition), runs under
  one savepoint and writes what it changed in a few statements (the step log's new rows,
  among them the visits the runs waited in, and the runs: :func:`engine.write_batched`);
  if anything fails, it is rolled back and each run advances under its own savepoint: a
  run whose step fails is marked ``failed`` with the reason and never holds back the
  others.
- **Dates.** A flow triggered by a profile date (``customFields.Birthday``, yearly) keeps
  ``date_cursor``, the last UTC day it handled; once a day later, one query per flow finds
  the contacts whose date (or its anniversary) falls on the days since, and starts their
  runs, keyed by the year."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.flows import engine, matching
from cartwheel.flows.definition import Trigger
from cartwheel.models import Contact, Flow, FlowRun
from cartwheel.models.base import utcnow
from cartwheel.segments.compiler import active
from cartwheel.worker.queue import DEFERRED

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: Runs advanced per sweep pass (``CARTWHEEL_FLOWS_BATCH_SIZE``).
SWEEP_BATCH = 500
#: Days of anniversaries a date trigger catches up on after a pause in the worker.
MAX_CATCH_UP_DAYS = 7
#: How often a worker looks for date-triggered flows whose day has come.
DATE_CHECK = timedelta(minutes=1)


def sweep(db: Database, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Advance up to ``limit`` due runs; returns how many it claimed.

    The claim names nothing but the timer, so only the timers' index
    (``ix_flow_runs_wake``: the due rows, oldest first) serves it: with the run's state or
    its flow's in the query, PostgreSQL's planner, its statistics taken while the table
    was small, read every active run per sweep through an index on (flow, ..., state).
    A claimed run of a flow that is not live (paused) is held: its timer is cleared, so no
    later sweep reads it again, and resuming the flow sets it again
    (:func:`service.resume`); so is a run that has ended (it has no timer). On PostgreSQL
    a run whose contact an event pass is handling (its flows lock taken,
    :func:`engine.hold_contacts`) is left due for a later sweep: that pass reads the
    contact's runs unlocked, as no sweep changes them meanwhile."""
    query = select(FlowRun).where(FlowRun.wake_at <= now).order_by(FlowRun.wake_at).limit(limit)
    if db.is_sqlite:
        # One writer: look in a read transaction first, so an idle sweep never takes the
        # write lock the ingest writer is waiting for.
        with db.read() as session:
            if session.execute(query.with_only_columns(FlowRun.id).limit(1)).first() is None:
                return 0
    else:
        query = query.with_for_update(skip_locked=True, of=FlowRun)
    with db.transaction() as session:
        claimed = list(session.scalars(query))
        if not claimed:
            return 0
        due = _hold_paused(session, claimed)
        free = engine.try_hold_contacts(session, [run.contact_id for run in due])
        due = [run for run in due if run.contact_id in free]
        if not due:
            return len(claimed)
        ids = [run.id for run in due]
        try:
            with session.begin_nested():
                engine.batch_writes(session)
                held = read_ahead(session, due, now)  # noqa: F841  (the identity map is weak)
                engine.batch_messages(session)
                for run in due:
                    definition = engine.definition_of(session, run.flow_id, run.version)
                    engine.advance(session, run, definition, now)
                engine.write_batched(session)
                engine.emit_batched(session)
                session.flush()
            return len(due)
        except Exception:
            log.info("flow sweep batch failed; advancing its runs one by one")
        session.info.pop(DEFERRED, None)
        matching.forget(session)
        session.expunge_all()  # the batch wrote some runs' rows and let go of them: reread
        for run in session.scalars(select(FlowRun).where(FlowRun.id.in_(ids))):
            advance_alone(session, run, now)
    return len(claimed)


def _hold_paused(session: Session, claimed: list[FlowRun]) -> list[FlowRun]:
    """The claimed runs that are active in a live flow; the others' timers are cleared
    (held until the flow is resumed)."""
    live = set(
        session.scalars(
            select(Flow.id).where(
                Flow.id.in_({run.flow_id for run in claimed}), Flow.state == "live"
            )
        )
    )
    due = [run for run in claimed if run.state == engine.ACTIVE and run.flow_id in live]
    if len(due) < len(claimed):
        kept = {run.id for run in due}
        session.execute(
            update(FlowRun)
            .where(FlowRun.id.in_([run.id for run in claimed if run.id not in kept]))
            .values(wake_at=None),
            execution_options={"synchronize_session": False},
        )
    return due


def read_ahead(session: Session, due: list[FlowRun], now: datetime) -> list[Any]:
    """What a batch of runs will read, in a few queries: their contacts and the events of
    each exit and awaited-event condition for all of them. In a batch that gathers its
    writes (:func:`engine.batch_writes`) the contacts are plain rows kept by the batch;
    otherwise they are returned, for the caller to hold while the batch runs (the session's
    identity map holds them only weakly)."""
    contact_ids = sorted({run.contact_id for run in due})
    held: list[Any] = []
    if engine.batching(session):
        engine.read_contacts(session, contact_ids)
    else:
        held += session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
    read_waits_ahead(session, due, now)
    return held


def read_waits_ahead(session: Session, runs: list[Any], now: datetime) -> None:
    """The events each exit and awaited-event condition of these runs will look for, in a
    query per condition for all of them."""
    wanted: dict[tuple[int, int], tuple[Any, int, dict[int, datetime]]] = {}
    for run in runs:
        definition = engine.definition_of(session, run.flow_id, run.version)
        waits = [(w, w.since == "trigger") for w in definition.exit_on]
        step = definition.steps.get(run.step or "")
        if step is not None and step.wait is not None:
            waits.append((step.wait, step.wait.since == "trigger"))
        for wait, from_trigger in waits:
            if from_trigger:
                moment = run.trigger_at
            elif step is not None and wait is step.wait:
                moment = run.step_at or run.started_at
            else:
                moment = run.started_at
            entry = wanted.setdefault((id(wait), run.store_id), (wait, run.store_id, {}))
            known = entry[2].get(run.contact_id)
            entry[2][run.contact_id] = moment if known is None else min(known, moment)
    for wait, store_id, since in wanted.values():
        matching.prefetch(session, store_id, wait, since, now)


def advance_alone(session: Session, run: FlowRun, now: datetime) -> None:
    """Advance one run under its own savepoint; a failure ends only that run (``failed``,
    with the error). If ending it fails too (its step log's row cannot be written), the run
    is marked failed by its own columns alone: a run that can neither advance nor end must
    not fail the whole sweep, which would claim it first again, forever, and hold back every
    timer behind it."""
    try:
        with session.begin_nested():
            definition = engine.definition_of(session, run.flow_id, run.version)
            engine.advance(session, run, definition, now)
    except Exception as exc:
        log.warning("flow run failed", exc_info=True, extra={"run_id": run.id})
        reason = f"{type(exc).__name__}: {exc}"[:300]
        session.refresh(run)
        try:
            with session.begin_nested():
                engine.end(session, run, engine.FAILED, reason, now)
        except Exception:
            log.error("flow run could not be ended; marked failed", exc_info=True,
                      extra={"run_id": run.id})  # fmt: skip
            session.expunge(run)
            ended = {"finished_at": now, "updated_at": now, "slot": None, "waiting": None,
                     "deadline": None, "wake_at": None}  # fmt: skip
            session.execute(
                update(FlowRun)
                .where(FlowRun.id == run.id)
                .values(state=engine.FAILED, reason=reason, **ended),
                execution_options={"synchronize_session": False},
            )


# -- dates --------------------------------------------------------------------------------------


def date_triggers(db: Database, now: datetime) -> int:
    """Start the runs of date-triggered flows for the days since each flow's cursor."""
    today = now.date()
    with db.read() as session:
        ids = list(
            session.scalars(
                select(Flow.id).where(
                    Flow.state == "live",
                    Flow.deleted_at.is_(None),
                    Flow.mentions["dates"].as_boolean().is_(True),
                    (Flow.date_cursor.is_(None)) | (Flow.date_cursor < today.isoformat()),
                )
            )
        )
    started = 0
    for flow_id in ids:
        with db.transaction() as session:
            query = select(Flow).where(Flow.id == flow_id)
            if not db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            flow = session.scalars(query).first()
            if flow is None or flow.version is None or flow.state != "live":
                continue
            cursor = date.fromisoformat(flow.date_cursor) if flow.date_cursor else today
            start_day = max(cursor + timedelta(days=1), today - timedelta(days=MAX_CATCH_UP_DAYS))
            if flow.date_cursor is None:
                start_day = today
            definition = engine.definition_of(session, flow.id, flow.version)
            days = [start_day + timedelta(days=n) for n in range((today - start_day).days + 1)]
            for trigger in definition.triggers:
                if trigger.kind == "date" and days:
                    started += _start_dates(session, flow, definition, trigger, days, now)
            flow.date_cursor = today.isoformat()
    return started


def _start_dates(
    session: Session, flow: Flow, definition: Any, trigger: Trigger, days: list[date], now: datetime
) -> int:
    assert trigger.date_field is not None
    name = trigger.date_field[len("customFields.") :]
    value = func.substr(Contact.custom_fields[name].as_string(), 1, 10)
    if trigger.yearly:
        wanted = {d.strftime("%m-%d") for d in days}
        if any(d.month == 2 and d.day == 28 and not _leap(d.year) for d in days):
            wanted.add("02-29")  # a 29 February date comes round on the 28th
        column = func.substr(value, 6, 5)
    else:
        wanted = {d.isoformat() for d in days}
        column = value
    rows = session.execute(
        select(Contact.id, value).where(active(flow.store_id), column.in_(sorted(wanted)))
    ).all()
    started = 0
    for contact_id, raw in rows:
        key = str(max(days).year) if trigger.yearly else str(raw)
        context = {"source": "date", "event": None, "entity": None, "date": raw}
        begin = engine.Start(contact_id, key, now, context)
        if engine.start(session, flow, definition, begin, now) is not None:
            started += 1
    return started


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


class SweepTask:
    """The periodic task: each call advances one bounded batch of due runs, and starts the
    date triggers that are due."""

    def __init__(self, settings: Settings | None = None, clock: Clock = utcnow) -> None:
        self.clock = clock
        self.batch = settings.flows_batch_size if settings is not None else SWEEP_BATCH
        self._dates_due: datetime | None = None

    def __call__(self, db: Database) -> int:
        now = self.clock()
        handled = sweep(db, now, self.batch)
        if self._dates_due is None or now >= self._dates_due:
            handled += date_triggers(db, now)
            self._dates_due = now + DATE_CHECK
        return handled
