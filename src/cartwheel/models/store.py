from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class Store(Base):
    """A tenant: every other row belongs to exactly one store."""

    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Per-store override of the global rate limit (requests per second); NULL = the default.
    rate_limit_per_second: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
