"""The event queue: work is marked done only with the transaction that did it, so a failure
or a crash replays it, one bad event does not hold up the others, and concurrent workers
claim disjoint events."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartwheel.db import Database
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, IngestResult
from cartwheel.ingest.writer import IngestWriter
from cartwheel.models import Event, QueueFailure
from cartwheel.stores import service as stores
from cartwheel.worker.queue import process_events


def store_events(db: Database, names: list[str]) -> list[uuid.UUID]:
    with db.transaction() as session:
        store_id = stores.create_store(session, "queue").store_id
    writer = IngestWriter(db)
    writer.start()
    try:
        events = []
        for i, name in enumerate(names):
            hints = IdentityHints()
            hints.add("email", f"q{i}@example.com")
            events.append(CanonicalEvent(store_id=store_id, name=name, identity=hints))
        results = writer.submit_sync(events)
    finally:
        writer.stop()
    ids = []
    for result in results:
        assert isinstance(result, IngestResult) and result.event_id is not None
        ids.append(result.event_id)
    return ids


def pending(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).where(Event.processed_at.is_(None))) or 0)


def test_one_failing_event_does_not_hold_up_the_others(own_db: Database) -> None:
    store_events(own_db, ["ok", "boom", "ok"])
    seen: list[str] = []

    def processor(_session: object, event: Event) -> None:
        if event.name == "boom":
            raise RuntimeError("processor bug")
        seen.append(event.name)

    assert process_events(own_db, [processor], 100) == 3
    assert seen[-2:] == ["ok", "ok"]  # after the batch's try, row by row
    # Every event ran every processor once; the failure waits in queue_failures, alone.
    assert pending(own_db) == 0
    with own_db.read() as session:
        failure = session.scalars(select(QueueFailure)).one()
        assert (failure.attempts, failure.status) == (1, "pending")
        assert failure.last_error == "RuntimeError: processor bug"


def test_a_crash_mid_pass_loses_nothing_and_the_work_replays(own_db: Database) -> None:
    store_events(own_db, ["a", "b", "c"])

    class Crash(BaseException):
        """Stands in for the process dying: nothing catches it."""

    def crashing(_session: object, event: Event) -> None:
        if event.name == "b":
            raise Crash

    with pytest.raises(Crash):
        process_events(own_db, [crashing], 100)
    assert pending(own_db) == 3  # the pass rolled back: no event was marked done

    done: list[str] = []
    process_events(own_db, [lambda _s, e: done.append(e.name)], 100)
    assert sorted(done) == ["a", "b", "c"]
    assert pending(own_db) == 0


def test_concurrent_workers_claim_disjoint_events(own_db: Database) -> None:
    """Two workers with their own connections (two processes, on PostgreSQL via SKIP
    LOCKED) never process the same event."""
    ids = store_events(own_db, [f"e{i}" for i in range(300)])
    handled: list[uuid.UUID] = []
    lock = threading.Lock()
    workers = [Database(own_db.url), Database(own_db.url)]

    def record(_session: object, event: Event) -> None:
        with lock:
            handled.append(event.id)

    def run(db: Database) -> None:
        while process_events(db, [record], 25):
            pass

    threads = [threading.Thread(target=run, args=(db,)) for db in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for db in workers:
        db.dispose()
    assert sorted(handled) == sorted(ids)  # each exactly once


def test_events_no_processor_wants_are_marked_done_without_handling(own_db: Database) -> None:
    from cartwheel.worker.queue import Handler

    store_events(own_db, ["wanted", "ignored", "wanted"])
    handled: list[str] = []
    handler = Handler(
        handle=lambda _s, e: handled.append(e.name),
        wants=lambda _s, header: header.name == "wanted",
    )
    assert process_events(own_db, [handler], 100) == 3
    assert handled == ["wanted", "wanted"]
    assert pending(own_db) == 0


def test_a_flush_runs_once_per_batch_and_row_by_row_after_a_failure(own_db: Database) -> None:
    from cartwheel.worker.queue import Handler, deferred

    store_events(own_db, ["a", "boom", "b"])
    flushed: list[list[str]] = []

    def handle(session: Session, event: Event) -> None:
        deferred(session).setdefault("names", []).append(event.name)

    def flush(session: Session) -> None:
        names = deferred(session).pop("names", [])
        if "boom" in names:
            raise RuntimeError("flush bug")
        flushed.append(names)

    assert process_events(own_db, [Handler(handle, flush=flush, name="deferring")], 100) == 3
    # The batch's one flush failed: it was rolled back and each row ran with its own flush,
    # with nothing left over from the failed batch.
    assert flushed == [["a"], ["b"]]
    assert pending(own_db) == 0
    with own_db.read() as session:
        failures = list(session.scalars(select(QueueFailure)))
    assert [f.handler for f in failures] == ["deferring"]

    store_events(own_db, ["c", "d"])
    flushed.clear()
    assert process_events(own_db, [Handler(handle, flush=flush, name="deferring")], 100) == 2
    assert flushed == [["c", "d"]]  # once for the whole batch
