from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class ContactMerge(Base):
    """A recorded merge of ``source`` into ``target``: what moved, so it can be shown and
    undone. ``moved`` holds the identifier ids and event ids that changed owner and the
    source's fields before the merge."""

    __tablename__ = "contact_merges"
    __table_args__ = (Index("ix_contact_merges_store_target", "store_id", "target_contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    source_contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    target_contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(300))
    moved: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
