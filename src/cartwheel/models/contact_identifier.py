from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class ContactIdentifier(Base):
    """An identifier that names exactly one contact of a store: an email (lower-cased), a
    phone (E.164) or an external id (the store's own customer id). The unique constraint is
    what makes two concurrent requests for a new email create one contact, on both engines."""

    __tablename__ = "contact_identifiers"
    __table_args__ = (
        UniqueConstraint("store_id", "kind", "value"),
        Index("ix_contact_identifiers_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "email" | "phone" | "external"
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
