"""Bulk inserts raise what SQLAlchemy raises for its own statements, on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cartwheel.db import Database
from cartwheel.ingest.bulk import BulkInsert
from cartwheel.models import SubscriberList
from cartwheel.models.base import utcnow
from tests.conftest import StoreFixture

COLUMNS = ("id", "store_id", "name", "created_at", "updated_at")


def test_a_duplicate_key_is_an_integrity_error_and_writes_nothing(
    db: Database, store: StoreFixture
) -> None:
    """The ingest writer retries a batch that raced another writer when it sees
    SQLAlchemy's IntegrityError. PostgreSQL's COPY goes around SQLAlchemy, so its driver
    error is translated; a psycopg error would have failed the batch instead."""
    with db.write_connection() as conn:
        bulk = BulkInsert(conn)
        now = bulk.datetime(utcnow())
        bulk.insert("subscriber_lists", COLUMNS, [(900_001, store.store_id, "A", now, now)])
    with pytest.raises(IntegrityError), db.write_connection() as conn:
        bulk = BulkInsert(conn)
        now = bulk.datetime(utcnow())
        rows = [(900_002, store.store_id, "B", now, now), (900_001, store.store_id, "C", now, now)]
        bulk.insert("subscriber_lists", COLUMNS, rows)
    with db.read() as session:
        names = session.scalars(
            select(SubscriberList.name).where(SubscriberList.store_id == store.store_id)
        ).all()
    assert names == ["A"]
