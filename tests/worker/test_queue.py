"""The event queue: work is marked done only with the transaction that did it, so a failure
or a crash replays it, one bad event does not hold up the others, and concurrent workers
claim disjoint events."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cartwheel import outbox
from cartwheel.db import Database
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, IngestResult
from cartwheel.ingest.writer import IngestWriter
from cartwheel.models import Event, PendingEvent, QueueFailure
from cartwheel.stores import service as stores
from cartwheel.worker.queue import Handler, deferred, process_events, process_outbox


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
        return int(session.scalar(select(func.count()).select_from(PendingEvent)) or 0)


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


def test_a_queued_event_deleted_by_hand_is_dropped_from_the_queue(own_db: Database) -> None:
    """The queue has no foreign key to the log: an event deleted by hand leaves its queued
    row, which the next pass takes off the queue, handing the handlers only the others."""
    first, gone, last = store_events(own_db, ["a", "gone", "c"])
    with own_db.transaction() as session:
        session.execute(delete(Event).where(Event.id == gone))
    seen: list[uuid.UUID] = []
    assert process_events(own_db, [lambda _session, event: seen.append(event.id)], 100) == 3
    assert seen == [first, last]
    assert pending(own_db) == 0


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


def planning(seen: list[list[str]], applied: list[Any]) -> Handler:
    """A handler whose deferred work is a plan (the names it handled) and an apply."""

    def handle(session: Session, event: Any) -> None:
        deferred(session).setdefault("names", []).append(event.name)

    def plan(session: Session) -> list[str]:
        names: list[str] = deferred(session).pop("names", [])
        seen.append(names)
        return names

    return Handler(handle, plan=plan, apply=lambda _session, names: applied.append(names))


def test_a_plan_is_applied_once_with_the_rows_marked_done(own_db: Database) -> None:
    store_events(own_db, ["a", "b", "c"])
    seen: list[list[str]] = []
    applied: list[Any] = []
    assert process_events(own_db, [planning(seen, applied)], 100) == 3
    assert applied == [["a", "b", "c"]] and seen == applied
    assert pending(own_db) == 0
    assert process_events(own_db, [planning(seen, applied)], 100) == 0
    assert applied == [["a", "b", "c"]]


def test_rows_taken_between_the_read_and_the_write_are_claimed_afresh(own_db: Database) -> None:
    """On SQLite the plan is made in a read transaction, before the write lock: if another
    pass (one without the worker lease) marked some of its rows done meanwhile, the plan
    is dropped and the pass claims what is still pending, in its write transaction."""
    if not own_db.is_sqlite:
        pytest.skip("PostgreSQL passes claim with row locks in one transaction: no read ahead")
    ids = store_events(own_db, ["a", "b", "c"])
    applied: list[Any] = []
    seen: list[list[str]] = []
    plain = planning(seen, applied)

    def plan_and_race(session: Session) -> list[str]:
        names = plain.plan(session) if plain.plan else []
        if len(seen) == 1:  # the read-ahead plan: another writer takes "a" meanwhile
            with own_db.transaction() as other:
                other.execute(delete(PendingEvent).where(PendingEvent.id == ids[0]))
        return names

    racing = Handler(plain.handle, plan=plan_and_race, apply=plain.apply)
    assert process_events(own_db, [racing], 100) == 2
    assert seen == [["a", "b", "c"], ["b", "c"]]
    assert applied == [["b", "c"]]
    assert pending(own_db) == 0


def test_the_worker_lease_excludes_other_processes(own_db: Database, tmp_path: Path) -> None:
    """Held by one process, the lease's file lock cannot be taken by another."""
    if not own_db.is_sqlite:
        pytest.skip("the lease is SQLite's; PostgreSQL passes claim rows")
    path = f"{own_db.engine.url.database}-worker"
    probe = (
        "import fcntl, os, sys\n"
        f"fd = os.open({path!r}, os.O_RDWR)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    sys.exit(3)\n"
    )
    with own_db.worker_lease():
        held = subprocess.run([sys.executable, "-c", probe], check=False)
    free = subprocess.run([sys.executable, "-c", probe], check=False)
    assert (held.returncode, free.returncode) == (3, 0)


def test_plain_rows_for_handlers_that_name_their_columns(
    own_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler naming its columns gets plain rows of them and the header; the others are
    asked once per kind of event, and the batch runs whole (no row-by-row fallback)."""
    store_events(own_db, ["a", "b", "a", "a"])
    got: list[tuple[str, bool]] = []
    asked: list[str] = []

    def reads_name(_session: Session, event: Any) -> None:
        got.append((event.name, isinstance(event, Event)))

    def wants_nothing(_session: Session, header: Any) -> bool:
        asked.append(header.name)
        return bool(header.silent)

    handlers = [
        Handler(reads_name, columns=("name",)),
        Handler(lambda _s, _e: None, wants_nothing, name="nothing"),
    ]
    with caplog.at_level(logging.INFO, logger="cartwheel.worker.queue"):
        assert process_events(own_db, handlers, 100) == 4
    assert got == [("a", False), ("b", False), ("a", False), ("a", False)]
    assert sorted(asked) == ["a", "b"]
    assert "row by row" not in caplog.text


def test_a_handler_idle_last_pass_gets_its_columns_when_it_wants_rows(
    own_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A claim reads only the columns of the planning handlers that wanted rows in the
    queue's last pass; one that wanted none then and wants rows now still gets a plain row
    with its columns (read by id), the first time round: no failed plan, no row-by-row."""
    got: list[tuple[str, Any, bool]] = []

    def handle(session: Session, event: Any) -> None:
        seen = deferred(session).setdefault("seen", [])
        seen.append((event.name, event.occurred_at, isinstance(event, Event)))

    def plan(session: Session) -> list[tuple[str, Any, bool]]:
        seen: list[tuple[str, Any, bool]] = deferred(session).pop("seen", [])
        return seen

    handler = Handler(
        handle,
        lambda _session, header: header.name == "wanted",
        plan=plan,
        apply=lambda _session, seen: got.extend(seen),
        columns=("occurred_at",),
        name="reads-moments",
    )
    store_events(own_db, ["ignored"])
    assert process_events(own_db, [handler], 100) == 1
    assert got == []
    store_events(own_db, ["wanted"])
    with caplog.at_level(logging.INFO, logger="cartwheel.worker.queue"):
        assert process_events(own_db, [handler], 100) == 1
    assert [(name, plain) for name, _, plain in got] == [("wanted", False)]
    assert got[0][1] is not None
    assert "plan failed" not in caplog.text and "row by row" not in caplog.text


def test_outbox_handlers_are_asked_per_kind_unless_they_read_the_payload(
    own_db: Database,
) -> None:
    """A handler whose ``wants`` reads a message's payload is asked for every message; the
    others once per store and topic in a batch."""
    with own_db.transaction() as session:
        store_id = stores.create_store(session, "outbox kinds").store_id
        outbox.emit_many(session, [(store_id, "ticked", {"n": n}) for n in range(6)])
    by_payload: list[int] = []
    asked: list[str] = []

    def odd(_session: Session, header: Any) -> bool:
        return bool(header.payload["n"] % 2)

    def any_tick(_session: Session, header: Any) -> bool:
        asked.append(header.topic)
        return False

    handlers = [
        Handler(lambda _s, m: by_payload.append(m.payload["n"]), odd, per_row=True),
        Handler(lambda _s, _m: None, any_tick, name="ticks"),
    ]
    assert process_outbox(own_db, handlers, 100) == 6
    assert by_payload == [1, 3, 5]
    assert asked == ["ticked"]
