from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base


class SegmentDay(Base):
    """One UTC day of a segment's history: how many contacts entered and exited, and its
    size after the day's last transition."""

    __tablename__ = "segment_days"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    #: The UTC day, ``YYYY-MM-DD``.
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    entered: Mapped[int] = mapped_column(Integer, default=0)
    exited: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer, default=0)
