from __future__ import annotations

import uuid

from sqlalchemy import Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base


class PendingEvent(Base):
    """The event log's queue: one row per event the worker has yet to process, written by
    the ingest writer in the transaction that stores the event and deleted by the worker's
    pass that processes it.

    A table of its own rather than a mark on the event: marking an event processed wrote a
    new version of a wide row and an entry in each of the event log's indexes (25 µs an
    event on PostgreSQL, against ~2 to delete this row and ~6 to insert it), and left
    the log's table to churn. ``store_id`` answers "how many of a store's events are
    pending" without reading the events.

    No foreign key to the event: its check locked the event's row for every event stored
    (~11 µs an event on PostgreSQL, measured in psql: 16 against 5 per row). Cartwheel
    never deletes an event; one deleted by hand leaves its queued row behind, which the
    next pass claims and deletes with the others (:func:`cartwheel.worker.queue._claim`)."""

    __tablename__ = "pending_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    store_id: Mapped[int] = mapped_column(Integer)
