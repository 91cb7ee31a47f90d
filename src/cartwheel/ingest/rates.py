"""Events stored per store, wire format and minute (table ``event_minutes``), added to by the
ingest writer in the transaction that stores them: one multi-row upsert per batch, so the
back office charts the ingest rate without counting the event log.

Each process writes under its own random ``SHARD``: with several API processes on one
PostgreSQL database, two writers never update (and so never wait on) the same row; a reader
sums the shards. Rows older than ``KEEP_MINUTES`` (the chart shows a week at most) are
dropped by the writer about once an hour."""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.models import EventMinute

SHARD = secrets.randbelow(2**31 - 1)
#: Eight days of minutes are kept.
KEEP_MINUTES = 8 * 24 * 60
_PRUNE_EVERY = 60
_last_prune = 0


def _redraw() -> None:
    global SHARD
    SHARD = secrets.randbelow(2**31 - 1)


# A forked worker process is another writer: it takes a shard of its own.
os.register_at_fork(after_in_child=_redraw)


def minute_of(moment: datetime) -> int:
    """Minutes since the Unix epoch."""
    return int(moment.timestamp()) // 60


def record(
    conn: Connection,
    now: datetime,
    events: Sequence[CanonicalEvent],
    results: Sequence[IngestResult | AppError],
) -> None:
    """Count the events of a batch that were stored (not duplicates) under ``now``'s
    minute; one statement, none when nothing was stored."""
    counts: Counter[tuple[int, str]] = Counter()
    for event, result in zip(events, results, strict=True):
        if not isinstance(result, IngestResult):
            continue
        if result.event_id is not None and not result.duplicate:
            counts[(event.store_id, event.wire)] += 1
    if not counts:
        return
    minute = minute_of(now)
    _prune(conn, minute)
    insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(EventMinute).values(
        [
            {"store_id": store_id, "minute": minute, "wire": wire, "shard": SHARD, "count": n}
            for (store_id, wire), n in sorted(counts.items())
        ]
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["store_id", "minute", "wire", "shard"],
            set_={"count": EventMinute.count + statement.excluded.count},
        )
    )


def _prune(conn: Connection, minute: int) -> None:
    global _last_prune
    if minute - _last_prune < _PRUNE_EVERY:
        return
    _last_prune = minute
    conn.execute(delete(EventMinute).where(EventMinute.minute < minute - KEEP_MINUTES))
