from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Product(Base):
    """A product of a store's catalog, created through the store data API or kept in step
    with the store platform's product events. ``external_id`` is the platform's own id
    (NULL for products created through the API); options, variants and the subscription
    plan are value objects of the product and are stored with it, in the API's shape.
    A deleted product keeps its row with ``deleted_at`` set and is invisible to the API."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("store_id", "external_id"),
        Index("ix_products_store_url", "store_id", "url"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(300), default=None)
    type: Mapped[str] = mapped_column(String(20), default="physical")
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(1000))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    images: Mapped[list[str]] = mapped_column(JSONType, default=list)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    subscription: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    file: Mapped[str | None] = mapped_column(String(2000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the newest platform event applied to this product happened: older events are stale.
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Deleted products stay as tombstones so a late or replayed event cannot bring them back.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
