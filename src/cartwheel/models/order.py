from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Order(Base):
    """An order placed in a store, kept in step with the platform's order events and
    editable through the store data API. ``external_id`` is the platform's own order id
    (unique per store); ``id`` is Cartwheel's. ``status`` is one of the API's five statuses
    (lower-case); ``platform_status`` keeps the platform's own word for it."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "external_id"),
        Index("ix_orders_store_created", "store_id", "created_at"),
        Index("ix_orders_store_contact", "store_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(300), default=None)
    invoice_no: Mapped[int] = mapped_column(Integer, default=0)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    member_id: Mapped[int | None] = mapped_column(Integer, default=None)
    customer_name: Mapped[str | None] = mapped_column(String(300), default=None)
    customer_email: Mapped[str | None] = mapped_column(String(320), default=None)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    shipping_required: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    weight_unit: Mapped[str] = mapped_column(String(8), default="kg")
    sub_total: Mapped[float] = mapped_column(Float, default=0.0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    currency: Mapped[str | None] = mapped_column(String(8), default=None)
    discount_code: Mapped[str | None] = mapped_column(String(200), default=None)
    discount_type: Mapped[str | None] = mapped_column(String(32), default=None)
    discount_amount: Mapped[float] = mapped_column(Float, default=0.0)
    shipping_name: Mapped[str | None] = mapped_column(String(300), default=None)
    shipping_amount: Mapped[float] = mapped_column(Float, default=0.0)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_method: Mapped[str | None] = mapped_column(String(100), default=None)
    transaction_id: Mapped[str | None] = mapped_column(String(300), default=None)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    platform_status: Mapped[str | None] = mapped_column(String(50), default=None)
    taxes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    additional_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # {"courier", "trackingNo", "trackingUrl"}: set through the API or the platform's tracking.
    fulfillment: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    # When the order was placed (the API's ``created``), not when Cartwheel first saw it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When the newest platform event applied to this order happened: older events are stale.
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
