from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType


class OrderItem(Base):
    """One line of an order. ``product_id`` links Cartwheel's product when it is known;
    ``product_external_id`` keeps the platform's product id so the link can be made when
    the product arrives later."""

    __tablename__ = "order_items"
    __table_args__ = (
        Index("ix_order_items_order", "order_id", "position"),
        Index("ix_order_items_store_product_external", "store_id", "product_external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(500), default="")
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), default=None
    )
    product_external_id: Mapped[str | None] = mapped_column(String(300), default=None)
    variant_external_id: Mapped[str | None] = mapped_column(String(300), default=None)
    type: Mapped[str] = mapped_column(String(20), default="physical")
    sku: Mapped[str | None] = mapped_column(String(200), default=None)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    price: Mapped[float] = mapped_column(Float, default=0.0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    width: Mapped[float] = mapped_column(Float, default=0.0)
    height: Mapped[float] = mapped_column(Float, default=0.0)
    length: Mapped[float] = mapped_column(Float, default=0.0)
    shipping_required: Mapped[bool] = mapped_column(Boolean, default=True)
    variation: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    additions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
