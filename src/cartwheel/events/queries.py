"""Event reads (the only module that queries the ``events`` table for reading)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import Event, EventMinute, PendingEvent


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What ``GET /v1/events`` narrows the log to; None means any."""

    name: str | None = None
    category: str | None = None
    action: str | None = None
    contact_id: int | None = None
    #: ``occurred_at`` in [occurred_after, occurred_before).
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page of the log ends: the (occurred_at, id) of its last event."""

    occurred_at: datetime
    id: uuid.UUID


def contact_events(
    session: Session, store_id: int, contact_id: int, page: PageParams
) -> tuple[list[Event], int]:
    """A contact's events, newest first."""
    query = (
        select(Event)
        .where(Event.store_id == store_id, Event.contact_id == contact_id)
        .order_by(Event.id.desc())
    )
    return paginate(session, query, page)


def store_events(
    session: Session, store_id: int, where: EventFilter, after: Position | None, limit: int
) -> list[Event]:
    """Up to ``limit`` of the store's events matching ``where``, by ``occurred_at`` then id,
    newest first, strictly after ``after`` in that order (keyset paging: an index range
    whatever the depth, and a position that rows inserted meanwhile cannot shift)."""
    query = select(Event).where(Event.store_id == store_id)
    if where.name is not None:
        query = query.where(Event.name == where.name)
    if where.category is not None:
        query = query.where(Event.category == where.category)
    if where.action is not None:
        query = query.where(Event.action == where.action)
    if where.contact_id is not None:
        query = query.where(Event.contact_id == where.contact_id)
    if where.occurred_after is not None:
        query = query.where(Event.occurred_at >= where.occurred_after)
    if where.occurred_before is not None:
        query = query.where(Event.occurred_at < where.occurred_before)
    if after is not None:
        query = query.where(tuple_(Event.occurred_at, Event.id) < (after.occurred_at, after.id))
    query = query.order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit)
    return list(session.execute(query).scalars())


def get_event(session: Session, store_id: int, event_id: uuid.UUID) -> Event | None:
    """One of the store's events by id (a message's triggering event)."""
    event: Event | None = session.get(Event, event_id)
    return event if event is not None and event.store_id == store_id else None


@dataclass(frozen=True, slots=True)
class Pending:
    """The store's events not yet processed by the worker: how many (counted up to a
    cap), and when the oldest was received."""

    count: int
    capped: bool
    oldest_received_at: datetime | None


def pending(session: Session, store_id: int, cap: int = 10_000) -> Pending:
    """Read along the event log's queue (``pending_events``: small unless the worker is
    behind); the count stops at ``cap`` so a large backlog costs no more than that. The
    oldest is the first queued (the queue's ids are the events', in log order)."""
    mine = PendingEvent.store_id == store_id
    waiting = select(PendingEvent.id).where(mine).limit(cap + 1).subquery()
    count = int(session.execute(select(func.count()).select_from(waiting)).scalar_one())
    oldest = session.execute(
        select(Event.received_at)
        .join_from(PendingEvent, Event, Event.id == PendingEvent.id)
        .where(mine)
        .order_by(PendingEvent.id)
        .limit(1)
    ).scalar_one_or_none()
    return Pending(min(count, cap), count > cap, oldest)


def minutes(
    session: Session, store_id: int, start: int, bucket: int, count: int
) -> list[tuple[int, str, int]]:
    """(bucket index, wire format, events stored) for ``count`` buckets of ``bucket``
    minutes from minute ``start`` (minutes since the epoch), summed in SQL over the
    writers' shards (table ``event_minutes``, kept by the ingest writer)."""
    index = (EventMinute.minute - start) // bucket
    rows = session.execute(
        select(index, EventMinute.wire, func.sum(EventMinute.count))
        .where(
            EventMinute.store_id == store_id,
            EventMinute.minute >= start,
            EventMinute.minute < start + bucket * count,
        )
        .group_by(index, EventMinute.wire)
    ).all()
    return [(int(i), wire, int(total)) for i, wire, total in rows]
