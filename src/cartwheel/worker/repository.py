"""Queue-failure queries. The worker's claim of due retries runs across stores (the worker
serves every store); what the API and the CLI read starts from :func:`failures`, which is
scoped by store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session

from cartwheel.models import OutboxMessage, QueueFailure

EVENTS = "events"
OUTBOX = "outbox"
QUEUES = (EVENTS, OUTBOX)

PENDING = "pending"
FAILED = "failed"
STATUSES = (PENDING, FAILED)

# Inlined, so PostgreSQL matches the partial index on pending rows even with a generic plan.
_PENDING_SQL: ColumnElement[str] = literal_column("'pending'")


# -- the worker -------------------------------------------------------------------------------


def claim_due(
    session: Session,
    queue: str,
    handlers: Sequence[str],
    now: datetime,
    limit: int,
    skip_locked: bool,
) -> Sequence[Row[int, str, str, int]]:
    """Pending failures of ``handlers`` whose retry is due, oldest due first; locked
    (PostgreSQL: rows another worker holds are skipped, so claims are disjoint)."""
    query = (
        select(QueueFailure.id, QueueFailure.row_id, QueueFailure.handler, QueueFailure.attempts)
        .where(
            QueueFailure.queue == queue,
            QueueFailure.status == _PENDING_SQL,
            QueueFailure.next_attempt_at <= now,
            QueueFailure.handler.in_(handlers),
        )
        .order_by(QueueFailure.next_attempt_at, QueueFailure.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return session.execute(query).all()


def add(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(QueueFailure), rows)


def change(session: Session, failure_id: int, values: dict[str, Any]) -> None:
    session.execute(
        update(QueueFailure).where(QueueFailure.id == failure_id).values(**values),
        execution_options={"synchronize_session": False},
    )


def resolve(session: Session, ids: list[int]) -> None:
    """The handler succeeded (or its row is gone): nothing is left to retry."""
    if ids:
        session.execute(
            delete(QueueFailure).where(QueueFailure.id.in_(ids)),
            execution_options={"synchronize_session": False},
        )


# -- what the API and the CLI see -------------------------------------------------------------


def failures(store_id: int | None) -> Select[Any]:
    """Every read starts here. ``store_id`` None means every store: the operator's CLI only."""
    query = select(QueueFailure)
    if store_id is not None:
        query = query.where(QueueFailure.store_id == store_id)
    return query


def get(session: Session, store_id: int | None, failure_id: int) -> QueueFailure | None:
    found: QueueFailure | None = session.execute(
        failures(store_id).where(QueueFailure.id == failure_id)
    ).scalar_one_or_none()
    return found


def replay(session: Session, failure_id: int) -> None:
    change(session, failure_id, REPLAY)


def replay_all(session: Session, store_id: int, queue: str | None) -> int:
    """Give every dead letter of a store (of one queue, if given) a fresh set of tries."""
    query = update(QueueFailure).where(
        QueueFailure.store_id == store_id, QueueFailure.status == FAILED
    )
    if queue is not None:
        query = query.where(QueueFailure.queue == queue)
    result = session.execute(
        query.values(**REPLAY), execution_options={"synchronize_session": False}
    )
    return int(getattr(result, "rowcount", 0) or 0)


#: A replayed failure is due at once: at its last try's time, which the worker's own clock
#: wrote (so an API host whose clock runs ahead cannot postpone it).
REPLAY: dict[str, Any] = {
    "status": PENDING,
    "attempts": 0,
    "next_attempt_at": QueueFailure.last_attempt_at,
    "failed_at": None,
}


def pending_outbox(session: Session, store_id: int, cap: int) -> tuple[int, bool, datetime | None]:
    """The store's unprocessed outbox messages (counted up to ``cap``) and the oldest's
    creation time, read along the partial index of pending messages. The store is compared
    as ``store_id + 0`` so that no planner prefers walking the store's whole outbox by its
    store index (as it did the event log's when its queue was a mark on the event: 230 ms
    for 50,000 events on SQLite, bench/admin.py)."""
    mine = (OutboxMessage.store_id + 0) == store_id
    waiting = (
        select(OutboxMessage.id)
        .where(OutboxMessage.processed_at.is_(None), mine)
        .limit(cap + 1)
        .subquery()
    )
    count = int(session.execute(select(func.count()).select_from(waiting)).scalar_one())
    oldest = session.execute(
        select(OutboxMessage.created_at)
        .where(OutboxMessage.processed_at.is_(None), mine)
        .order_by(OutboxMessage.id)
        .limit(1)
    ).scalar_one_or_none()
    return min(count, cap), count > cap, oldest


def failure_counts(session: Session, store_id: int) -> tuple[int, int]:
    """(dead letters, failures waiting for a retry) of a store."""
    rows = session.execute(
        select(QueueFailure.status, func.count())
        .where(QueueFailure.store_id == store_id)
        .group_by(QueueFailure.status)
    ).all()
    counts = {status: int(n) for status, n in rows}
    return counts.get(FAILED, 0), counts.get(PENDING, 0)
