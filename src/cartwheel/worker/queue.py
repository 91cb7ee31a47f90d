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
#: Whether a handler has anything to do with a row. It is asked with the row's header (for an
#: event: ``id``, ``store_id``, ``category``, ``name``, ``silent``; for an outbox message:
#: ``id``, ``store_id``, ``topic``) before the row is loaded, so rows no handler wants are
#: marked done without being loaded at all.
RowFilter = Callable[[Session, Any], bool]


@dataclass(frozen=True, slots=True)
class Handler:
    handle: Callable[[Session, Any], None]
    wants: RowFilter

    def __call__(self, session: Session, row: Any) -> None:
        if self.wants(session, row):
            self.handle(session, row)


#: A row whose handling failed this many times is set aside (marked done, with a log).
MAX_ATTEMPTS = 5

_HEADERS: dict[Any, tuple[str, ...]] = {
    Event: ("id", "store_id", "category", "name", "silent"),
    OutboxMessage: ("id", "store_id", "topic"),
}


def _wants(handler: Callable[[Session, Any], None]) -> RowFilter:
    if isinstance(handler, Handler):
        return handler.wants
    return lambda _session, _row: True


def process_events(db: Database, processors: Sequence[EventProcessor | Handler], limit: int) -> int:
    """Run every processor over up to ``limit`` pending events; returns how many."""
    return _process(db, Event, processors, limit, "event")


def process_outbox(db: Database, consumers: Sequence[OutboxConsumer | Handler], limit: int) -> int:
    """Run every consumer over up to ``limit`` pending outbox messages; returns how many."""
    return _process(db, OutboxMessage, consumers, limit, "outbox")


def _process(
    db: Database,
    model: Any,
    handlers: Sequence[Callable[[Session, Any], None]],
    limit: int,
    kind: str,
) -> int:
    """Claim up to ``limit`` pending rows (oldest first), load and handle those some handler
    wants, and mark all of them done, in one transaction."""
    filters = [_wants(h) for h in handlers]
    with db.transaction() as session:
        query = (
            select(*(getattr(model, column) for column in _HEADERS[model]))
            .where(model.processed_at.is_(None))
            .order_by(model.id)
            .limit(limit)
        )
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        headers = session.execute(query).all()
        wanted = [h.id for h in headers if any(wants(session, h) for wants in filters)]
        rows: list[Any] = []
        if wanted:
            loaded = session.scalars(select(model).where(model.id.in_(wanted)).order_by(model.id))
            rows = list(loaded)
        _run_batch(session, model, rows, handlers, kind)
        unwanted = {h.id for h in headers} - set(wanted)
        if unwanted:
            _mark_done(session, model, list(unwanted))
        return len(headers)


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
