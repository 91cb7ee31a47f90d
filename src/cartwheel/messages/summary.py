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


def delivery_summaries(
    session: Session, store_id: int, since: dict[str, datetime]
) -> dict[str, DeliverySummary]:
    """A summary per named moment (``{"hour": now - 1 h, …}``): for each, the store's
    messages queued since then counted by status, every status a range of
    ``ix_messages_store_status_created`` (counted in the index, in its order: nothing read
    from the rows, nothing sorted)."""
    found: dict[str, DeliverySummary] = {}
    for name, moment in since.items():
        counts = {
            status: int(count)
            for status, count in session.execute(
                select(Message.status, func.count())
                .where(
                    Message.store_id == store_id,
                    Message.status.in_(states.STATUSES),
                    Message.created_at >= moment,
                )
                .group_by(Message.status)
            )
        }
        found[name] = _summary(counts)
    return found


def _summary(counts: dict[str, int]) -> DeliverySummary:
    return DeliverySummary(
        sent=counts.get(states.SENT, 0),
        failed=counts.get(states.FAILED, 0),
        bounced=counts.get(states.BOUNCED, 0),
        skipped=counts.get(states.SKIPPED, 0),
        waiting=counts.get(states.QUEUED, 0) + counts.get(states.SENDING, 0),
    )
