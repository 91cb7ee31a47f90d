"""How a store's messages fared since a moment (the back office's overview, beside the
webhooks' delivery success)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
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


def delivery_summaries(
    session: Session, store_id: int, since: dict[str, datetime]
) -> dict[str, DeliverySummary]:
    """A summary per named moment (``{"hour": now - 1 h, …}``), all read in one pass over
    the store's messages queued since the earliest of them."""
    names = list(since)
    if not names:
        return {}
    earliest = min(since.values())
    columns = [func.sum(case((Message.created_at >= since[name], 1), else_=0)) for name in names]
    counts: dict[str, dict[str, int]] = {name: {} for name in names}
    for status, *sums in session.execute(
        select(Message.status, *columns)
        .where(Message.store_id == store_id, Message.created_at >= earliest)
        .group_by(Message.status)
    ):
        for name, value in zip(names, sums, strict=True):
            counts[name][status] = int(value or 0)
    return {name: _summary(counts[name]) for name in names}


def _summary(counts: dict[str, int]) -> DeliverySummary:
    return DeliverySummary(
        sent=counts.get(states.SENT, 0),
        failed=counts.get(states.FAILED, 0),
        bounced=counts.get(states.BOUNCED, 0),
        skipped=counts.get(states.SKIPPED, 0),
        waiting=counts.get(states.QUEUED, 0) + counts.get(states.SENDING, 0),
    )
