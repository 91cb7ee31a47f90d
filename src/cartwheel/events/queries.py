"""Event reads (the only module that queries the ``events`` table for reading)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import Event


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


def pending_events(session: Session, limit: int, *, skip_locked: bool) -> list[Event]:
    """Unprocessed events, oldest first, claimed for this transaction on PostgreSQL."""
    query = select(Event).where(Event.processed_at.is_(None)).order_by(Event.id).limit(limit)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).scalars())
