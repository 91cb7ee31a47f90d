"""Claiming and finishing queued rows: the event log and the outbox.

A row is claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (on SQLite the write lock
held by the transaction does the same job) and marked done in the same transaction that
does its work. A crash before commit leaves the row pending: the work replays, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cartwheel.db import Database
from cartwheel.models import Event, OutboxMessage
from cartwheel.models.base import utcnow

log = logging.getLogger(__name__)

EventProcessor = Callable[[Session, Event], None]
OutboxConsumer = Callable[[Session, OutboxMessage], None]
#: Whether a processor has anything to do for an event. It is asked with the event's header
#: (a row with ``id``, ``store_id``, ``category``, ``name``, ``silent``) before the event is
#: loaded, so events no processor wants are marked done without being loaded at all.
EventFilter = Callable[[Session, Any], bool]


@dataclass(frozen=True, slots=True)
class EventHandler:
    handle: EventProcessor
    wants: EventFilter

    def __call__(self, session: Session, event: Event) -> None:
        if self.wants(session, event):
            self.handle(session, event)


def _wants(processor: EventProcessor | EventHandler) -> EventFilter:
    if isinstance(processor, EventHandler):
        return processor.wants
    return lambda _session, _event: True


#: An event whose processing failed this many times is set aside (processed, with a log).
MAX_ATTEMPTS = 5


def _claim(session: Session, model: Any, limit: int, skip_locked: bool) -> list[Any]:
    query = select(model).where(model.processed_at.is_(None)).order_by(model.id).limit(limit)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).scalars())


def process_events(
    db: Database, processors: Sequence[EventProcessor | EventHandler], limit: int
) -> int:
    """Run every processor over up to ``limit`` pending events; returns how many."""
    filters = [_wants(p) for p in processors]
    with db.transaction() as session:
        query = (
            select(Event.id, Event.store_id, Event.category, Event.name, Event.silent)
            .where(Event.processed_at.is_(None))
            .order_by(Event.id)
            .limit(limit)
        )
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        headers = session.execute(query).all()
        wanted = [h.id for h in headers if any(wants(session, h) for wants in filters)]
        events: list[Event] = []
        if wanted:
            events = list(
                session.scalars(select(Event).where(Event.id.in_(wanted)).order_by(Event.id))
            )
        _run_batch(session, Event, events, processors, "event")
        unwanted = set(h.id for h in headers) - set(wanted)
        if unwanted:
            _mark_done(session, Event, list(unwanted))
        return len(headers)


def process_outbox(db: Database, consumers: Sequence[OutboxConsumer], limit: int) -> int:
    """Run every consumer over up to ``limit`` pending outbox messages; returns how many."""
    with db.transaction() as session:
        messages: list[OutboxMessage] = _claim(session, OutboxMessage, limit, not db.is_sqlite)
        _run_batch(session, OutboxMessage, messages, consumers, "outbox")
        return len(messages)


def _run_batch(
    session: Session,
    model: Any,
    rows: list[Any],
    handlers: Sequence[Callable[[Session, Any], None]],
    kind: str,
) -> None:
    """Handle ``rows`` and mark them done with one UPDATE.

    The whole batch runs under one savepoint: the common case (nothing fails) costs no
    per-row savepoint or flush. If anything fails, the batch is rolled back and replayed
    row by row, each under its own savepoint, so one bad row cannot hold up the others."""
    if not rows:
        return
    failed: list[Any] = []
    try:
        with session.begin_nested():
            for row in rows:
                for handler in handlers:
                    handler(session, row)
    except Exception:
        failed = [row for row in rows if not _run_one(session, row, handlers, kind)]
    done = [row.id for row in rows if row not in failed]
    for row in failed:
        attempts = getattr(row, "attempts", MAX_ATTEMPTS - 1) + 1
        if hasattr(row, "attempts"):
            row.attempts = attempts
        if attempts >= MAX_ATTEMPTS:
            log.error("giving up on a row", extra={"kind": kind, "row_id": str(row.id)})
            done.append(row.id)
    if done:
        _mark_done(session, model, done)


def _mark_done(session: Session, model: Any, ids: list[Any]) -> None:
    session.execute(
        update(model).where(model.id.in_(ids)).values(processed_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def _run_one(
    session: Session, row: Any, handlers: Sequence[Callable[[Session, Any], None]], kind: str
) -> bool:
    try:
        with session.begin_nested():
            for handler in handlers:
                handler(session, row)
    except Exception:
        log.exception("processing failed", extra={"kind": kind, "row_id": str(row.id)})
        return False
    return True
