from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class MessageSender(Base):
    """A store's sender: from address and name, reply-to, SMS number. NULL columns fall
    back to ``CARTWHEEL_MAIL_FROM`` and ``CARTWHEEL_SMS_FROM``."""

    __tablename__ = "message_senders"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    from_email: Mapped[str | None] = mapped_column(String(320), default=None)
    from_name: Mapped[str | None] = mapped_column(String(200), default=None)
    reply_to: Mapped[str | None] = mapped_column(String(320), default=None)
    sms_from: Mapped[str | None] = mapped_column(String(32), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
