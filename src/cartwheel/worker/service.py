"""Reading and replaying queue failures (the API and the CLI call these). With a store id,
every function sees only that store: another store's ids answer exactly like missing ones.
``store_id`` None (every store) is for the operator's CLI only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cartwheel.events import queries as event_queries
from cartwheel.exceptions import BadRequest, Conflict, NotFound
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import QueueFailure
from cartwheel.models.base import MAX_ID
from cartwheel.worker import repository


def parse_queue(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in repository.QUEUES:
        raise BadRequest(f"The queue parameter must be one of: {', '.join(repository.QUEUES)}.")
    return value


def parse_status(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in repository.STATUSES:
        raise BadRequest(f"The status parameter must be one of: {', '.join(repository.STATUSES)}.")
    return value


def list_failures(
    session: Session,
    store_id: int | None,
    page: PageParams,
    queue: str | None = None,
    status: str | None = None,
) -> tuple[list[QueueFailure], int]:
    """Failures, newest first: handlers waiting for a retry and dead letters."""
    query = repository.failures(store_id)
    if (queue := parse_queue(queue)) is not None:
        query = query.where(QueueFailure.queue == queue)
    if (status := parse_status(status)) is not None:
        query = query.where(QueueFailure.status == status)
    return paginate(session, query.order_by(QueueFailure.id.desc()), page)


def get_failure(session: Session, store_id: int | None, failure_id: str | int) -> QueueFailure:
    try:
        number = int(failure_id)
    except ValueError:
        number = 0
    row = repository.get(session, store_id, number) if 0 < number <= MAX_ID else None
    if row is None:
        raise NotFound("Queue failure not found.")
    return row


def replay_failure(session: Session, store_id: int | None, failure_id: str | int) -> QueueFailure:
    """Give a dead letter a fresh set of tries; the worker runs its handler again at once."""
    row = get_failure(session, store_id, failure_id)
    if row.status != repository.FAILED:
        raise Conflict("This failure is still being retried; only failed rows can be replayed.")
    repository.replay(session, row.id)
    session.refresh(row)
    return row


def replay_failures(session: Session, store_id: int, queue: str | None = None) -> int:
    """Replay every dead letter of a store (of one queue, if given); returns how many."""
    return repository.replay_all(session, store_id, parse_queue(queue))


@dataclass(frozen=True, slots=True)
class Backlog:
    """What the worker has yet to do for a store: events and outbox messages not processed
    (each counted up to a cap), how long the oldest of each has waited, and the handlers
    given up on (dead letters) or waiting for a retry."""

    events: int
    events_capped: bool
    events_oldest: datetime | None
    outbox: int
    outbox_capped: bool
    outbox_oldest: datetime | None
    dead_letters: int
    retrying: int

    def lag_seconds(self, now: datetime) -> float:
        """How long the oldest unprocessed event or message has waited (0: none waits)."""
        oldest = [t for t in (self.events_oldest, self.outbox_oldest) if t is not None]
        return max(0.0, (now - min(oldest)).total_seconds()) if oldest else 0.0


def backlog(session: Session, store_id: int, cap: int = 10_000) -> Backlog:
    events = event_queries.pending(session, store_id, cap)
    outbox, outbox_capped, outbox_oldest = repository.pending_outbox(session, store_id, cap)
    dead, retrying = repository.failure_counts(session, store_id)
    return Backlog(
        events.count,
        events.capped,
        events.oldest_received_at,
        outbox,
        outbox_capped,
        outbox_oldest,
        dead,
        retrying,
    )
