from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class IdentityConflict(Base):
    """An identifier that one request tied to ``contact_id`` but that belongs to
    ``owner_contact_id``, a different known person: it was left where it was, not merged."""

    __tablename__ = "identity_conflicts"
    __table_args__ = (Index("ix_identity_conflicts_store_contact", "store_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    owner_contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
