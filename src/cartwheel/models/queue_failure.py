from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class QueueFailure(Base):
    """One handler that failed on one row of a queue (the event log or the outbox).

    The row itself is marked processed once every handler ran on it; what failed is kept
    here, retried on its own with backoff while ``status`` is ``pending``, and becomes a
    dead letter (``failed``) after the last try. A success deletes the row."""

    __tablename__ = "queue_failures"
    __table_args__ = (
        Index("uq_queue_failures_row_handler", "queue", "row_id", "handler", unique=True),
        Index("ix_queue_failures_store", "store_id", "id"),
        # Partial: the worker's look-up of due retries scans only what is still pending.
        Index(
            "ix_queue_failures_due",
            "queue",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    #: ``events`` or ``outbox``.
    queue: Mapped[str] = mapped_column(String(16))
    #: The event's UUID or the outbox message's id, as text.
    row_id: Mapped[str] = mapped_column(String(36))
    #: The handler's stable name (see ``worker.queue.Handler``).
    handler: Mapped[str] = mapped_column(String(200))
    #: ``pending`` (a retry is due at ``next_attempt_at``) or ``failed`` (a dead letter).
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
