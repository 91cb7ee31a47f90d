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
