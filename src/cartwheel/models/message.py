from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class Message(Base):
    """One email or SMS to one recipient: a row before it is sent, and the durable send
    queue (queued → sending → sent, failed, bounced or suppressed). A sender leases a row
    (``claimed_until``, ``lease``) and records each try in ``message_attempts``."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("store_id", "idempotency_key"),
        Index("ix_messages_store", "store_id", "id"),
        Index("ix_messages_contact", "contact_id"),
        # A campaign's figures (migration 0020): every column its counts read, so they are
        # summed from the index alone, grouped by status in index order.
        Index(
            "ix_messages_campaign_figures",
            "campaign_id",
            "status",
            "opened_at",
            "clicked_at",
            "unsubscribed_at",
        ),
        # The back office's: the overview's delivery counts, a range of the index per status
        # (migration 0020; 0016's was by time then status, read whole and sorted by status),
        # and a contact's messages (0016).
        Index("ix_messages_store_status_created", "store_id", "status", "created_at"),
        Index("ix_messages_store_contact", "store_id", "contact_id"),
        # Migration 0020: a campaign's messages and the log by status, newest first, each a
        # range of its index (counted and paged there) instead of a walk of the store's.
        Index("ix_messages_store_campaign", "store_id", "campaign_id", "id"),
        Index("ix_messages_store_status", "store_id", "status", "id"),
        Index(
            "ix_messages_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('queued', 'sending')"),
            sqlite_where=text("status IN ('queued', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_templates.id", ondelete="SET NULL"), default=None
    )
    #: The transactional message's key when it was sent from a default template.
    template_key: Mapped[str | None] = mapped_column(String(64), default=None)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    channel: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: Where it goes: fixed at send time from the contact, unless given when queued.
    to_address: Mapped[str | None] = mapped_column(String(320), default=None)
    #: What the template sees besides the contact and the store: ``event_id``,
    #: ``order_id``, ``cart_id``, ``member_id`` and free ``data``.
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    from_address: Mapped[str | None] = mapped_column(String(600), default=None)
    subject: Mapped[str | None] = mapped_column(Text, default=None)
    html: Mapped[str | None] = mapped_column(Text, default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    #: The email's ``Message-ID``, the same for every try (receivers deduplicate on it).
    message_id_header: Mapped[str | None] = mapped_column(String(300), default=None)
    provider_id: Mapped[str | None] = mapped_column(String(100), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    lease: Mapped[str | None] = mapped_column(String(32), default=None)
    last_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
