from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class LoginAttempt(Base):
    """One back-office sign-in attempt, for the per-address rate limit (and the record)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_address", "address", "attempted_at"),
        Index("ix_login_attempts_attempted", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
