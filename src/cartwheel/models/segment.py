from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Segment(Base):
    """A store's segment: a versioned condition and its state. Its members are in
    ``segment_memberships``; a deleted segment keeps its row (``deleted_at``) so ids are
    never reused under a webhook consumer's feet."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_store", "store_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    condition: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: What the condition reads (cartwheel.segments.definition.Mentions), so the worker
    #: evaluates the segment only when one of these changes.
    mentions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: "building" while (re)built over history, then "live".
    state: Mapped[str] = mapped_column(String(16), default="live")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
