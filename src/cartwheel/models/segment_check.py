from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime


class SegmentCheck(Base):
    """When a (segment, contact) answer may next change with time alone (an event leaving
    a window, a date property's moment): the sweep re-checks the pair at ``due_at``.

    ``contact_id`` has no foreign key on purpose: a check is a reminder, not something the
    contact owns; one for a deleted or merged contact finds nothing and is dropped."""

    __tablename__ = "segment_checks"
    __table_args__ = (Index("ix_segment_checks_due", "due_at"),)

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
