from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class SubscriberListContact(Base):
    """A contact's membership of a subscriber list."""

    __tablename__ = "subscriber_list_contacts"
    __table_args__ = (Index("ix_subscriber_list_contacts_contact", "contact_id"),)

    list_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber_lists.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
