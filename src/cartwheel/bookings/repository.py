"""Booking queries, always scoped by store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from cartwheel.models import Booking


def store_bookings(
    store_id: int,
    *,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    event_id: int | None = None,
) -> Select[Any]:
    """The store's bookings by start time; both bounds inclusive, to the second."""
    query = select(Booking).where(Booking.store_id == store_id)
    if start_from is not None:
        query = query.where(Booking.start_at >= start_from)
    if start_to is not None:
        query = query.where(Booking.start_at < start_to + timedelta(seconds=1))
    if event_id is not None:
        query = query.where(Booking.event_id == event_id)
    return query.order_by(Booking.start_at, Booking.id)
