from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base


class ProductCategory(Base):
    """A product's place in a category; ``position`` keeps the order the store gave."""

    __tablename__ = "product_categories"
    __table_args__ = (Index("ix_product_categories_category", "category_id"),)

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
