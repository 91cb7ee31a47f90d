"""The ingest writer counts stored events per store, wire format and minute
(``event_minutes``, the back office's chart): duplicates and test events are not counted,
and another store's events are its own."""

from __future__ import annotations

import copy
from datetime import timedelta

from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.events import service as events
from cartwheel.models.base import utcnow
from cartwheel.wire.voucherify.schemas import DOCUMENT_EXAMPLE
from tests.conftest import StoreFixture


def _counts(db: Database, store_id: int) -> dict[str, float]:
    with db.read() as session:
        rate = events.ingest_rate(session, store_id, "hour", utcnow() + timedelta(seconds=1))
    return {wire: sum(series) for wire, series in rate.per_minute.items()}


def test_stored_events_are_counted_per_wire_format(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    for i in range(3):
        answer = client.post(
            "/v1/events",
            json={"name": "A", "contact": {"email": f"m{i}@x.example"}},
            headers=store.headers,
        )
        assert answer.status_code == 202
    twice = {"name": "A", "contact": {"email": "m0@x.example"}, "dedupKey": "k1"}
    client.post("/v1/events", json=twice, headers=store.headers)
    client.post("/v1/events", json=twice, headers=store.headers)  # a duplicate: not counted
    test_event = {"name": "A", "contact": {"email": "m0@x.example"}, "test": True}
    client.post("/v1/events", json=test_event, headers=store.headers)  # never stored
    voucherify = client.post(
        "/client/v1/events",
        json=copy.deepcopy(DOCUMENT_EXAMPLE),
        headers=store.client_headers(),
    )
    assert voucherify.status_code == 200, voucherify.text
    batch = client.post(
        "/v1/events/batch",
        json={"events": [{"name": "B", "contact": {"email": "m9@x.example"}}] * 2},
        headers=other_store.headers,
    )
    assert batch.status_code < 300, batch.text
    assert _counts(db, store.store_id) == {"native": 4.0, "voucherify": 1.0}
    assert _counts(db, other_store.store_id) == {"native": 2.0}


def test_the_rate_is_bucketed_by_span(db: Database, store: StoreFixture) -> None:
    now = utcnow()
    with db.read() as session:
        for span, points, bucket in (("hour", 60, 1), ("day", 144, 10), ("week", 168, 60)):
            rate = events.ingest_rate(session, store.store_id, span, now)
            assert len(rate.starts) == points and rate.bucket_minutes == bucket
            assert rate.starts[-1] <= now < rate.starts[-1] + timedelta(minutes=bucket)


def test_minutes_older_than_eight_days_are_dropped(db: Database, store: StoreFixture) -> None:
    from sqlalchemy import insert, select

    from cartwheel.ingest import rates
    from cartwheel.models import EventMinute

    now = utcnow()
    old = rates.minute_of(now) - rates.KEEP_MINUTES - 5
    with db.transaction() as session:
        session.execute(
            insert(EventMinute),
            [{"store_id": store.store_id, "minute": old, "wire": "native", "shard": 1, "count": 3}],
        )
    rates._last_prune = 0  # as if an hour had passed
    with db.write_connection() as conn:
        rates._prune(conn, rates.minute_of(now))
    with db.read() as session:
        left = session.execute(
            select(EventMinute).where(EventMinute.store_id == store.store_id)
        ).all()
    assert left == []
