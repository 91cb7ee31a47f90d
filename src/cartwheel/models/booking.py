from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Booking(Base):
    """A booked session of a scheduled event (``event_id`` is the store's event id)."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_store_start", "store_id", "start_at"),
        Index("ix_bookings_store_event", "store_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    email: Mapped[str] = mapped_column(String(320))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    operator: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    service: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    # [{"name": ..., "value": ...}, ...]
    form_answers: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
