from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Event(Base):
    """The durable event log. An event the worker has yet to process (entities, segments,
    flows, webhooks) has a row in ``pending_events`` (:class:`PendingEvent`), the log's
    queue; the event's own row is written once and never rewritten by the worker."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_store_contact", "store_id", "contact_id", "id"),
        # Partial: most events carry no dedup key and need no entry in this index.
        Index(
            "uq_events_store_dedup_key",
            "store_id",
            "dedup_key",
            unique=True,
            postgresql_where=text("dedup_key IS NOT NULL"),
            sqlite_where=text("dedup_key IS NOT NULL"),
        ),
        # The store's log (GET /v1/events), newest first: all, by name, by contact, by kind.
        Index("ix_events_store_occurred", "store_id", "occurred_at", "id"),
        Index("ix_events_store_name_occurred", "store_id", "name", "occurred_at", "id"),
        Index("ix_events_store_contact_occurred", "store_id", "contact_id", "occurred_at", "id"),
        Index(
            "ix_events_store_kind_occurred",
            "store_id",
            "category",
            "action",
            "occurred_at",
            "id",
            postgresql_where=text("category IS NOT NULL"),
            sqlite_where=text("category IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), default=None
    )
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(50), default=None)
    action: Mapped[str | None] = mapped_column(String(50), default=None)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str | None] = mapped_column(String(200), default=None)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # {"name": "date" | "number" | "string" | "boolean"} for the segmentable properties.
    property_types: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The canonical record of a lifecycle event (cartwheel.ingest.entities), if any.
    entity: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    value: Mapped[float | None] = mapped_column(Float, default=None)
    currency: Mapped[str | None] = mapped_column(String(8), default=None)
    dedup_key: Mapped[str | None] = mapped_column(String(300), default=None)
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
