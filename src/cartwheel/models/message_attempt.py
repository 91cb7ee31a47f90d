from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class MessageAttempt(Base):
    """One try at handing a message to the SMTP relay or the SMS provider. It is written
    (``outcome`` NULL) before the message leaves, so a crash mid-send shows as a try of
    unknown outcome, never as nothing."""

    __tablename__ = "message_attempts"
    __table_args__ = (Index("ix_message_attempts_message", "message_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    lease: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: "sent", "temporary", "permanent", "interrupted" (the sender died; outcome unknown).
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(String(1000), default=None)
