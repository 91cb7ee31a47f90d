from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow


class Campaign(Base):
    """A template sent to a subscriber list or a segment, now or at ``send_at``. The worker
    expands it into one message per recipient (``status`` scheduled → sending → sent)."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_store", "store_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_templates.id", ondelete="SET NULL"), default=None
    )
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber_lists.id", ondelete="SET NULL"), default=None
    )
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("segments.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    send_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Most messages per second; NULL: ``CARTWHEEL_CAMPAIGN_RATE_PER_SECOND``.
    rate_per_second: Mapped[float | None] = mapped_column(Float, default=None)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    #: Expansion's progress: the last contact id given a message (contacts go in id order).
    last_contact_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
