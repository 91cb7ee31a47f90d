from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class MessageTemplate(Base):
    """A store's Liquid template for email or SMS. ``key`` names a transactional message
    (``member_password_reset``…) when the template overrides Cartwheel's default for it."""

    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("store_id", "key"),
        Index("ix_message_templates_store", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(64), default=None)
    #: "email" or "sms".
    channel: Mapped[str] = mapped_column(String(8))
    #: "marketing" or "transactional": which consent a message from it needs.
    topic: Mapped[str] = mapped_column(String(16), default="marketing")
    subject: Mapped[str | None] = mapped_column(Text, default=None)
    #: The HTML body (email) or the text (SMS).
    body: Mapped[str] = mapped_column(Text)
    #: The email's plain-text part; NULL: generated from the HTML.
    text: Mapped[str | None] = mapped_column(Text, default=None)
    from_email: Mapped[str | None] = mapped_column(String(320), default=None)
    from_name: Mapped[str | None] = mapped_column(String(200), default=None)
    reply_to: Mapped[str | None] = mapped_column(String(320), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
