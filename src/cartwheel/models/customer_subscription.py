from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class CustomerSubscription(Base):
    """A contact's recurring purchase (not a webhook subscription), kept in step with the
    platform's subscription events. ``external_id`` is the platform's subscription id."""

    __tablename__ = "customer_subscriptions"
    __table_args__ = (
        UniqueConstraint("store_id", "external_id"),
        Index("ix_customer_subscriptions_store_contact", "store_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(300))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    # pending, active, paused, past_due, cancelled, expired or deleted (see records/).
    status: Mapped[str] = mapped_column(String(20), default="active")
    platform_status: Mapped[str | None] = mapped_column(String(50), default=None)
    currency: Mapped[str | None] = mapped_column(String(8), default=None)
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    plan: Mapped[str | None] = mapped_column(String(300), default=None)
    plan_id: Mapped[str | None] = mapped_column(String(300), default=None)
    amount: Mapped[float | None] = mapped_column(Float, default=None)
    interval: Mapped[str | None] = mapped_column(String(20), default=None)
    interval_count: Mapped[int | None] = mapped_column(Integer, default=None)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    next_payment_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The time of the newest event applied: an older event is stale and changes nothing.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
