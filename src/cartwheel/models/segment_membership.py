from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class SegmentMembership(Base):
    """A contact in a segment since ``entered_at``. The primary key makes a transition
    happen once even when two workers evaluate the same pair."""

    __tablename__ = "segment_memberships"
    __table_args__ = (Index("ix_segment_memberships_contact", "contact_id"),)

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
