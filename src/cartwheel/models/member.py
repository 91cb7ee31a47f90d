from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Member(Base):
    """A registered member of the store's site (member area login), linked to the contact
    that owns its email. ``password_hash`` is argon2; NULL means no usable password yet
    (the member was created without one and must reset it)."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("store_id", "email"),
        Index("ix_members_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
