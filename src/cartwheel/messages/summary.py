"""How a store's messages fared since a moment (the back office's overview, beside the
webhooks' delivery success)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartwheel.messages import service as states
from cartwheel.models import Message


@dataclass(frozen=True)
class DeliverySummary:
    """Messages queued since a moment: sent (accepted by the relay or provider), failed
    (given up after every retry), bounced, skipped by rule (no consent, suppressed, no
    address) and still waiting (queued or being sent)."""

    sent: int
    failed: int
    bounced: int
    skipped: int
    waiting: int

    @property
    def success_rate(self) -> float | None:
        """Sent over what was tried and ended (sent + failed + bounced); skipped messages
        were never tried. None when none ended."""
        ended = self.sent + self.failed + self.bounced
        return self.sent / ended if ended else None


def delivery_summary(session: Session, store_id: int, since: datetime) -> DeliverySummary:
    counts = dict(
        session.execute(
            select(Message.status, func.count())
            .where(Message.store_id == store_id, Message.created_at >= since)
            .group_by(Message.status)
        ).all()
    )
    return DeliverySummary(
        sent=int(counts.get(states.SENT, 0)),
        failed=int(counts.get(states.FAILED, 0)),
        bounced=int(counts.get(states.BOUNCED, 0)),
        skipped=int(counts.get(states.SKIPPED, 0)),
        waiting=int(counts.get(states.QUEUED, 0)) + int(counts.get(states.SENDING, 0)),
    )
