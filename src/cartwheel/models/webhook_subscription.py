from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow
from cartwheel.sealing import SealedText


class WebhookSubscription(Base):
    """A store's outbound webhook: where to send which event types, signed with ``secret``.

    ``status`` is ``active``, ``paused`` (by the merchant) or ``disabled`` (after a delivery
    exhausted its retries, or the target answered 410 Gone). A paused subscription keeps
    queueing and sends in order once resumed; a disabled one keeps what was queued but takes
    no new deliveries until it is resumed."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_store", "store_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    # The public id ("rh_…"): random, so it tells nothing about other stores' webhooks.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    target: Mapped[str] = mapped_column(String(2048))
    # Kept as given (needed to sign); never shown again after creation. See docs/webhooks.md.
    # Encrypted at rest under the application key (cartwheel/sealing.py).
    secret: Mapped[str] = mapped_column("secret_sealed", SealedText())
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Only these event names for `event_tracked`; NULL = every stored event.
    event_names: Mapped[list[str] | None] = mapped_column(JSONType, default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
