from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Flow(Base):
    """A store's automation: the draft definition being edited, and which published version
    new runs start on. ``state`` is ``draft`` (never published), ``live`` or ``paused``; a
    deleted flow keeps its row (``deleted_at``) so its runs keep their history."""

    __tablename__ = "flows"
    __table_args__ = (Index("ix_flows_store", "store_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    #: The definition as last saved (published or not).
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    #: The published version new runs start on; None until the first publish.
    version: Mapped[int | None] = mapped_column(Integer, default=None)
    #: What every published version reads (cartwheel.flows.definition.Mentions, merged), so
    #: the worker loads only the events some version starts, ends or wakes a run on.
    mentions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: Date triggers: the last UTC day whose anniversaries have started runs.
    date_cursor: Mapped[str | None] = mapped_column(String(10), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
