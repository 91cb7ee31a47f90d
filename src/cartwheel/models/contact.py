from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Contact(Base):
    """One person of one store. Identity lookups go through ``contact_identifiers``;
    ``email`` and ``phone`` here are the display values.

    A contact merged into another keeps its row with ``merged_into_id`` set, so its old
    id and uuid still resolve (to the surviving contact)."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_store_created", "store_id", "created_at"),
        Index("ix_contacts_store_uuid", "store_id", "uuid", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    first_name: Mapped[str | None] = mapped_column(String(200), default=None)
    last_name: Mapped[str | None] = mapped_column(String(200), default=None)
    company_name: Mapped[str | None] = mapped_column(String(300), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    address1: Mapped[str | None] = mapped_column(String(500), default=None)
    address2: Mapped[str | None] = mapped_column(String(500), default=None)
    city: Mapped[str | None] = mapped_column(String(200), default=None)
    state: Mapped[str | None] = mapped_column(String(200), default=None)
    state_code: Mapped[str | None] = mapped_column(String(20), default=None)
    zip: Mapped[str | None] = mapped_column(String(40), default=None)
    country: Mapped[str | None] = mapped_column(String(200), default=None)
    country_code: Mapped[str | None] = mapped_column(String(8), default=None)
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_contact: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where the contact first came from (e.g. "woocommerce"); never overwritten.
    source: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
