"""Segment queries, always scoped by store: a segment id of another store names nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cartwheel.kit.requests import is_id
from cartwheel.models import Contact, Segment, SegmentCheck, SegmentDay, SegmentMembership
from cartwheel.models.subscriber_list import SubscriberList
from cartwheel.segments.compiler import active


def store_segments(store_id: int) -> Select[Any]:
    return select(Segment).where(Segment.store_id == store_id, Segment.deleted_at.is_(None))


def get(session: Session, store_id: int, segment_id: int) -> Segment | None:
    if not is_id(segment_id):
        return None
    row = session.get(Segment, segment_id)
    if row is None or row.store_id != store_id or row.deleted_at is not None:
        return None
    return row


def live(session: Session, store_id: int) -> list[Segment]:
    """The store's segments the worker keeps up to date, oldest first."""
    return list(session.scalars(store_segments(store_id).order_by(Segment.id)))


def referred(session: Session, store_id: int) -> set[int]:
    """The segments that the store's segments refer to (``{"segment": id}`` conditions)."""
    found: set[int] = set()
    query = select(Segment.mentions).where(
        Segment.store_id == store_id, Segment.deleted_at.is_(None)
    )
    for mentions in session.scalars(query):
        found.update((mentions or {}).get("segments", ()))
    return found


def lock(session: Session, store_id: int, segment_ids: set[int]) -> None:
    """On PostgreSQL, lock these segments' rows for update, in id order (the order in which
    ``membership.apply`` share-locks them, so the two never wait on each other in a
    circle); nothing on SQLite, where the write lock serialises writers."""
    ids = sorted(i for i in segment_ids if is_id(i))
    if not ids or session.get_bind().dialect.name == "sqlite":
        return
    session.execute(
        select(Segment.id)
        .where(Segment.store_id == store_id, Segment.id.in_(ids))
        .order_by(Segment.id)
        .with_for_update()
    ).all()


def existing(session: Session, store_id: int, segment_ids: set[int]) -> dict[int, Segment]:
    ids = [i for i in segment_ids if is_id(i)]
    if not ids:
        return {}
    rows = session.scalars(store_segments(store_id).where(Segment.id.in_(ids)))
    return {r.id: r for r in rows}


def existing_lists(session: Session, store_id: int, list_ids: set[int]) -> set[int]:
    ids = [i for i in list_ids if is_id(i)]
    if not ids:
        return set()
    return set(
        session.scalars(
            select(SubscriberList.id).where(
                SubscriberList.store_id == store_id, SubscriberList.id.in_(ids)
            )
        )
    )


def sizes(session: Session, segment_ids: list[int]) -> dict[int, int]:
    if not segment_ids:
        return {}
    rows = session.execute(
        select(SegmentMembership.segment_id, func.count())
        .where(SegmentMembership.segment_id.in_(segment_ids))
        .group_by(SegmentMembership.segment_id)
    ).all()
    return {segment_id: count for segment_id, count in rows}


def members(store_id: int, segment_id: int) -> Select[int, str | None, datetime]:
    """(contact id, email, entered_at) of a segment's members, newest entries first."""
    return (
        select(Contact.id, Contact.email, SegmentMembership.entered_at)
        .join(SegmentMembership, SegmentMembership.contact_id == Contact.id)
        .where(SegmentMembership.segment_id == segment_id, active(store_id))
        .order_by(SegmentMembership.entered_at.desc(), Contact.id.desc())
    )


def contact_segments(session: Session, store_id: int, contact_id: int) -> list[Any]:
    return list(
        session.execute(
            select(Segment.id, Segment.name, SegmentMembership.entered_at)
            .join(SegmentMembership, SegmentMembership.segment_id == Segment.id)
            .where(
                SegmentMembership.contact_id == contact_id,
                Segment.store_id == store_id,
                Segment.deleted_at.is_(None),
            )
            .order_by(Segment.id)
        ).all()
    )


def membership(session: Session, segment_id: int, contact_id: int) -> SegmentMembership | None:
    return session.get(SegmentMembership, (segment_id, contact_id))


def next_check(session: Session, segment_id: int, contact_id: int) -> datetime | None:
    row = session.get(SegmentCheck, (segment_id, contact_id))
    return row.due_at if row is not None else None


def days(session: Session, segment_id: int, since: str) -> list[SegmentDay]:
    return list(
        session.scalars(
            select(SegmentDay)
            .where(SegmentDay.segment_id == segment_id, SegmentDay.day >= since)
            .order_by(SegmentDay.day)
        )
    )


def last_day_before(session: Session, segment_id: int, day: str) -> SegmentDay | None:
    return session.scalars(
        select(SegmentDay)
        .where(SegmentDay.segment_id == segment_id, SegmentDay.day < day)
        .order_by(SegmentDay.day.desc())
        .limit(1)
    ).first()
