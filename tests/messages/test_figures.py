"""The figures read along the message indexes (migration 0020) equal a recount of the rows:
a campaign's sent, opened, clicked… figures, the overview's delivery counts per window, and
the log filtered by status or campaign, newest first. Every status, every mark, messages at
the windows' edges and another store's messages, on both engines."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from cartwheel.db import Database
from cartwheel.kit.pagination import PageParams
from cartwheel.messages import campaigns, log, summary
from cartwheel.messages import service as states
from cartwheel.models import Campaign, Message
from cartwheel.models.base import utcnow
from tests.conftest import StoreFixture
from tests.messages.helpers import make_template

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}


def _campaign(db: Database, store_id: int, template_id: int) -> int:
    with db.transaction() as session:
        row = Campaign(store_id=store_id, name="Sale", template_id=template_id, recipients=0)
        session.add(row)
        session.flush()
        return row.id


def _messages(
    db: Database, store_id: int, campaign_ids: list[int | None], now: datetime
) -> list[dict[str, Any]]:
    """Every status with and without each mark, over eight days, some a second inside or
    outside each window."""
    ages = [timedelta(minutes=m) for m in (0, 5, 59, 61, 600, 1439, 1441, 5000, 10079, 10081)]
    for window in WINDOWS.values():
        ages += [window - timedelta(seconds=1), window + timedelta(seconds=1)]
    rows: list[dict[str, Any]] = []
    for n in range(240):
        status = states.STATUSES[n % len(states.STATUSES)]
        at = now - ages[n % len(ages)]
        rows.append(
            {
                "store_id": store_id,
                "campaign_id": campaign_ids[n % len(campaign_ids)],
                "channel": "email",
                "topic": "marketing",
                "idempotency_key": f"figures-{store_id}-{n}",
                "status": status,
                "context": {},
                "created_at": at,
                "opened_at": at if n % 4 == 0 else None,
                "clicked_at": at if n % 5 == 0 else None,
                "unsubscribed_at": at if n % 7 == 0 else None,
            }
        )
    with db.transaction() as session:
        ids = list(session.execute(insert(Message).returning(Message.id), rows).scalars())
    for row, message_id in zip(rows, ids, strict=True):
        row["id"] = message_id
    return rows


def test_campaign_figures_equal_a_recount(
    db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    template = make_template(db, store.store_id)
    first, second, quiet = (_campaign(db, store.store_id, template) for _ in range(3))
    now = utcnow()
    rows = _messages(db, store.store_id, [first, second, None, first], now)
    other = _campaign(db, other_store.store_id, make_template(db, other_store.store_id))
    _messages(db, other_store.store_id, [other], now)
    with db.read() as session:
        listed, total = campaigns.list_campaigns(session, store.store_id, PageParams(limit=10))
        assert total == 3
        shown = {c.id: c.stats for c in listed}
        for cid in (first, second, quiet):
            mine = [r for r in rows if r["campaign_id"] == cid]
            status = Counter(r["status"] for r in mine)
            expected = {
                "recipients": 0,
                "sent": status[states.SENT] + status[states.BOUNCED],
                "delivered": status[states.SENT],
                "opened": sum(r["opened_at"] is not None for r in mine),
                "clicked": sum(r["clicked_at"] is not None for r in mine),
                "unsubscribed": sum(r["unsubscribed_at"] is not None for r in mine),
                "bounced": status[states.BOUNCED],
                "skipped": status[states.SKIPPED],
                "failed": status[states.FAILED],
            }
            assert shown[cid].model_dump() == expected
            assert campaigns.get(session, store.store_id, cid).stats.model_dump() == expected
        assert shown[first].sent > 0 and shown[first].opened > 0  # the recount is not empty


def test_delivery_counts_per_window_equal_a_recount(
    db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    now = utcnow()
    rows = _messages(db, store.store_id, [None], now)
    _messages(db, other_store.store_id, [None], now)
    since = {name: now - length for name, length in WINDOWS.items()}
    with db.read() as session:
        found = summary.delivery_summaries(session, store.store_id, since)
    for name, moment in since.items():
        status = Counter(r["status"] for r in rows if r["created_at"] >= moment)
        assert found[name] == summary.DeliverySummary(
            sent=status[states.SENT],
            failed=status[states.FAILED],
            bounced=status[states.BOUNCED],
            skipped=status[states.SKIPPED],
            waiting=status[states.QUEUED] + status[states.SENDING],
        )
    assert found["hour"].sent < found["day"].sent < found["week"].sent


def test_the_log_by_status_and_by_campaign_pages_newest_first(
    db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    campaign = _campaign(db, store.store_id, make_template(db, store.store_id))
    now = utcnow()
    rows = _messages(db, store.store_id, [campaign, None], now)
    _messages(db, other_store.store_id, [None], now)
    with db.read() as session:
        for filters, wanted in (
            ({"status": states.BOUNCED}, [r for r in rows if r["status"] == states.BOUNCED]),
            ({"campaign_id": campaign}, [r for r in rows if r["campaign_id"] == campaign]),
        ):
            expected = sorted((r["id"] for r in wanted), reverse=True)
            page, total = log.list_messages(
                session, store.store_id, PageParams(limit=7, skip=5), **filters
            )
            assert total == len(expected)
            assert [m.id for m in page] == expected[5:12]
