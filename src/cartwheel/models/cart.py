from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Cart(Base):
    """A contact's shopping cart as the platform's cart events describe it. ``status`` is
    ``open``, ``abandoned`` or ``converted`` (an order completed or was paid)."""

    __tablename__ = "carts"
    __table_args__ = (
        UniqueConstraint("store_id", "external_id"),
        Index("ix_carts_store_contact_status", "store_id", "contact_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(300), default=None)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(20), default="open")
    # Canonical line items (cartwheel.ingest.entities.LineItemEntity).
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    total: Mapped[float | None] = mapped_column(Float, default=None)
    total_products: Mapped[int | None] = mapped_column(Integer, default=None)
    currency: Mapped[str | None] = mapped_column(String(8), default=None)
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), default=None
    )
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The time of the newest event applied: an older event is stale and changes nothing.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
