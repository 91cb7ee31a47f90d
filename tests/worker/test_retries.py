"""Retries, dead letters, replay and per-handler isolation, for both queues (the event log and
the outbox) on both engines. Handlers are real functions registered for the test; the clock
is the only thing mocked, so backoff is tested by moving time, never by sleeping."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from cartwheel import outbox
from cartwheel.db import Database
from cartwheel.exceptions import Conflict, NotFound
from cartwheel.ingest.writer import IngestWriter
from cartwheel.kit.pagination import PageParams
from cartwheel.models import Event, Order, OutboxMessage, PendingEvent, QueueFailure
from cartwheel.models.base import uuid7
from cartwheel.records import processor as records
from cartwheel.stores import service as stores
from cartwheel.worker import service
from cartwheel.worker.queue import Handler, RetryPolicy, process_events, process_outbox
from tests.records.lifecycle import lifecycle
from tests.records.test_order_events import ORDER

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
#: What the records-like handlers below write: a real row, in the pass's transaction.
RECORDED = "test_recorded"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Queue:
    name: str
    process: Callable[..., int]
    model: Any

    def add(self, db: Database, store_id: int, labels: list[str]) -> list[str]:
        """Queue one row per label; returns their ids as ``queue_failures.row_id`` holds them."""
        with db.transaction() as session:
            if self.model is Event:
                ids = [uuid7() for _ in labels]
                for id_, label in zip(ids, labels, strict=True):
                    session.add(Event(id=id_, store_id=store_id, name=label, occurred_at=T0))
                    session.add(PendingEvent(id=id_, store_id=store_id))
                return [str(i) for i in ids]
            outbox.emit_many(session, [(store_id, label, {}) for label in labels])
            query = select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(len(labels))
            return [str(i) for i in reversed(session.scalars(query).all())]

    @staticmethod
    def label(row: Any) -> str:
        return str(row.name if isinstance(row, Event) else row.topic)


QUEUES = {
    "events": Queue("events", process_events, Event),
    "outbox": Queue("outbox", process_outbox, OutboxMessage),
}


@pytest.fixture(params=list(QUEUES))
def queue(request: pytest.FixtureRequest) -> Queue:
    return QUEUES[request.param]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def new_store(db: Database, name: str = "retries") -> int:
    with db.transaction() as session:
        return stores.create_store(session, name).store_id


class Flaky:
    """A handler that fails on the rows labelled ``boom`` while ``broken`` is set."""

    def __init__(self, name: str = "flaky") -> None:
        self.broken = True
        self.seen: list[str] = []
        self.handler = Handler(self, wants=_not_recorded, name=name)

    def __call__(self, _session: Session, row: Any) -> None:
        self.seen.append(Queue.label(row))
        if self.broken and Queue.label(row) == "boom":
            raise RuntimeError("receiver down")


def _not_recorded(_session: Session, header: Any) -> bool:
    """Outbox handlers leave alone the messages the records-like handler writes."""
    return getattr(header, "topic", None) != RECORDED


def failures(db: Database) -> list[QueueFailure]:
    with db.read() as session:
        return list(session.scalars(select(QueueFailure).order_by(QueueFailure.id)))


def unprocessed(db: Database, queue: Queue) -> int:
    with db.read() as session:
        if queue.model is Event:
            query = select(func.count()).select_from(PendingEvent)
        else:
            query = select(func.count()).where(OutboxMessage.processed_at.is_(None))
        return int(session.scalar(query) or 0)


def metric(name: str, queue: Queue) -> float:
    return REGISTRY.get_sample_value(name, {"queue": queue.name}) or 0.0


def test_a_failing_handler_is_retried_with_exponential_backoff_up_to_the_cap(
    own_db: Database, queue: Queue, clock: Clock
) -> None:
    store_id = new_store(own_db)
    queue.add(own_db, store_id, ["boom"])
    flaky = Flaky()
    policy = RetryPolicy(max_attempts=6, backoff_base_seconds=10, backoff_cap_seconds=25)

    def run() -> int:
        return int(queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock))

    assert run() == 1
    for attempts, wait in enumerate([10, 20, 25, 25, 25], start=1):
        (failure,) = failures(own_db)
        assert (failure.attempts, failure.status) == (attempts, "pending")
        assert failure.next_attempt_at == clock.now + timedelta(seconds=wait)
        clock.advance(wait - 1)
        assert run() == 0  # not due yet: not tried
        clock.advance(1)
        assert run() == 1
    (failure,) = failures(own_db)
    assert (failure.attempts, failure.status, failure.next_attempt_at) == (6, "failed", None)
    assert flaky.seen == ["boom"] * 7  # the first pass tried the batch, then the row alone


def test_a_failing_row_does_not_block_the_rows_behind_it(
    own_db: Database, queue: Queue, clock: Clock
) -> None:
    store_id = new_store(own_db)
    queue.add(own_db, store_id, ["a", "boom", "b"])
    flaky = Flaky()
    policy = RetryPolicy(backoff_base_seconds=60)

    assert queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock) == 3
    assert flaky.seen == ["a", "boom", "a", "boom", "b"]  # the batch, then row by row
    assert unprocessed(own_db, queue) == 0  # every row went by; only the failure waits

    queue.add(own_db, store_id, ["c"])
    clock.advance(60)
    flaky.seen.clear()
    assert queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock) == 2
    # The retry runs after the rows queued behind it (documented: ordering is not kept).
    assert flaky.seen == ["c", "boom"]


def test_after_the_last_try_a_failure_is_a_dead_letter_distinct_from_done_and_counted(
    own_db: Database, queue: Queue, clock: Clock
) -> None:
    store_id = new_store(own_db)
    queue.add(own_db, store_id, ["ok", "boom"])
    flaky = Flaky()
    policy = RetryPolicy(max_attempts=2, backoff_base_seconds=5)
    retries = metric("cartwheel_queue_retries_total", queue)
    dead = metric("cartwheel_queue_dead_letters_total", queue)

    queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock)
    assert metric("cartwheel_queue_retries_total", queue) == retries + 1
    clock.advance(5)
    assert queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock) == 1
    assert metric("cartwheel_queue_dead_letters_total", queue) == dead + 1
    assert metric("cartwheel_queue_retries_total", queue) == retries + 1

    # "ok" is done (no failure); "boom" is failed, and stays so: nothing tries it again.
    (failure,) = failures(own_db)
    assert (failure.status, failure.attempts, failure.failed_at) == ("failed", 2, clock.now)
    assert failure.last_error == "RuntimeError: receiver down"
    clock.advance(365 * 24 * 3600)
    assert queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock) == 0
    assert flaky.seen == ["ok", "boom"] * 2 + ["boom"]
    with own_db.read() as session:
        rows, total = service.list_failures(session, store_id, PageParams(), status="failed")
    assert total == 1 and rows[0].id == failure.id


def test_replay_of_one_failure_and_of_all_the_failures_of_a_store(
    own_db: Database, queue: Queue, clock: Clock
) -> None:
    store_a, store_b = new_store(own_db, "A"), new_store(own_db, "B")
    queue.add(own_db, store_a, ["boom", "boom"])
    queue.add(own_db, store_b, ["boom"])
    flaky = Flaky()
    policy = RetryPolicy(max_attempts=1)
    recovered = metric("cartwheel_queue_recovered_total", queue)
    queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock)
    first, second, of_b = failures(own_db)
    assert {f.status for f in (first, second, of_b)} == {"failed"}

    with own_db.transaction() as session:
        with pytest.raises(NotFound):
            service.replay_failure(session, store_b, first.id)  # another store's: not found
        replayed = service.replay_failure(session, store_a, first.id)
        assert (replayed.status, replayed.attempts, replayed.failed_at) == ("pending", 0, None)
        with pytest.raises(Conflict):
            service.replay_failure(session, store_a, first.id)  # already being retried
    flaky.broken = False
    clock.advance(1)
    assert queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock) == 1
    assert [f.id for f in failures(own_db)] == [second.id, of_b.id]  # recovered: gone
    assert metric("cartwheel_queue_recovered_total", queue) == recovered + 1

    with own_db.transaction() as session:
        other_queue = "outbox" if queue.name == "events" else "events"
        assert service.replay_failures(session, store_a, other_queue) == 0
        assert service.replay_failures(session, store_a) == 1  # only store A's
    clock.advance(1)
    assert queue.process(own_db, [flaky.handler], 100, policy=policy, clock=clock) == 1
    remaining = failures(own_db)
    assert [(f.id, f.status) for f in remaining] == [(of_b.id, "failed")]


@pytest.mark.parametrize("failing_first", [False, True], ids=["after", "before"])
def test_one_failing_handler_neither_undoes_nor_withholds_another_handlers_work(
    own_db: Database, queue: Queue, clock: Clock, failing_first: bool
) -> None:
    """A records-like handler writes a row; a webhook-like handler fails on the same row
    (run after it: its failure must not roll that work back; run before it: must not
    withhold it). Only the failing handler is tried again."""
    store_id = new_store(own_db)
    row_ids = queue.add(own_db, store_id, ["ok", "boom"])
    recorded: list[str] = []

    def record(session: Session, row: Any) -> None:
        recorded.append(Queue.label(row))
        outbox.emit(session, row.store_id, RECORDED, {"of": str(row.id)})

    records_like = Handler(record, wants=_not_recorded, name="records-like")
    webhooks_like = Flaky("webhooks-like")
    handlers = [webhooks_like.handler, records_like]
    if not failing_first:
        handlers.reverse()
    policy = RetryPolicy(backoff_base_seconds=30)

    queue.process(own_db, handlers, 100, policy=policy, clock=clock)
    assert written(own_db) == row_ids  # committed, for both rows, once
    (failure,) = failures(own_db)
    assert (failure.handler, failure.row_id) == ("webhooks-like", row_ids[1])

    webhooks_like.broken = False
    webhooks_like.seen.clear()
    recorded.clear()
    clock.advance(30)
    assert queue.process(own_db, handlers, 100, policy=policy, clock=clock) >= 1
    assert webhooks_like.seen == ["boom"]  # the failing handler, alone
    assert recorded == []  # the one that succeeded is not run again
    assert written(own_db) == row_ids
    assert failures(own_db) == []


def written(db: Database) -> list[str]:
    with db.read() as session:
        query = select(OutboxMessage.payload).where(OutboxMessage.topic == RECORDED)
        return [p["of"] for p in session.scalars(query.order_by(OutboxMessage.id))]


def test_a_crash_during_a_retry_loses_nothing(own_db: Database, queue: Queue, clock: Clock) -> None:
    store_id = new_store(own_db)
    queue.add(own_db, store_id, ["boom"])
    flaky = Flaky()
    queue.process(own_db, [flaky.handler], 100, clock=clock)

    class Crash(BaseException):
        """Stands in for the process dying: nothing catches it."""

    def crashing(_session: Session, _row: Any) -> None:
        raise Crash

    clock.advance(3600)
    with pytest.raises(Crash):
        queue.process(own_db, [Handler(crashing, name="flaky")], 100, clock=clock)
    (failure,) = failures(own_db)
    assert (failure.attempts, failure.status) == (1, "pending")  # the pass rolled back

    flaky.broken = False
    assert queue.process(own_db, [flaky.handler], 100, clock=clock) == 1
    assert failures(own_db) == []


def test_concurrent_workers_retry_disjoint_failures(
    own_db: Database, queue: Queue, clock: Clock
) -> None:
    """Two workers with their own connections (two processes; on PostgreSQL the failures
    are claimed with SKIP LOCKED) never retry the same failure twice."""
    store_id = new_store(own_db)
    queue.add(own_db, store_id, ["boom"] * 120)
    flaky = Flaky()
    queue.process(own_db, [flaky.handler], 500, clock=clock)
    assert len(failures(own_db)) == 120

    clock.advance(3600)
    flaky.broken = False
    flaky.seen.clear()
    lock = threading.Lock()
    retried: list[str] = []

    def retry(_session: Session, row: Any) -> None:
        with lock:
            retried.append(str(row.id))

    workers = [Database(own_db.url), Database(own_db.url)]

    def run(db: Database) -> None:
        while queue.process(db, [Handler(retry, name="flaky")], 10, clock=clock):
            pass

    threads = [threading.Thread(target=run, args=(db,)) for db in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for db in workers:
        db.dispose()
    assert len(retried) == 120 and len(set(retried)) == 120  # each exactly once
    assert failures(own_db) == []


@pytest.fixture
def statements(own_db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(own_db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(own_db.engine, "before_cursor_execute", count)


def test_the_happy_path_has_no_per_row_statements(
    own_db: Database, queue: Queue, statements: list[str]
) -> None:
    store_id = new_store(own_db)
    handler = Handler(lambda _s, _r: None, name="quiet")
    counts = []
    for size in (3, 30):
        queue.add(own_db, store_id, [f"row{i}" for i in range(size)])
        statements.clear()
        assert queue.process(own_db, [handler], 100) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_a_database_error_in_one_handler_leaves_the_others_work(
    own_db: Database, queue: Queue, clock: Clock
) -> None:
    """A failing statement (which aborts the whole transaction on PostgreSQL) is rolled back
    to its own savepoint; the other handler's rows still commit."""
    store_id = new_store(own_db)
    row_ids = queue.add(own_db, store_id, ["a", "b"])

    def broken_sql(session: Session, _row: Any) -> None:
        session.execute(text("SELECT no_such_column FROM no_such_table"))

    def record(session: Session, row: Any) -> None:
        outbox.emit(session, row.store_id, RECORDED, {"of": str(row.id)})

    handlers = [
        Handler(broken_sql, wants=_not_recorded, name="broken"),
        Handler(record, wants=_not_recorded, name="records-like"),
    ]
    assert queue.process(own_db, handlers, 100, clock=clock) == 2
    assert written(own_db) == row_ids
    assert [(f.handler, f.row_id) for f in failures(own_db)] == [
        ("broken", row_ids[0]),
        ("broken", row_ids[1]),
    ]


def test_the_real_records_processor_keeps_its_order_when_a_fan_out_fails(
    own_db: Database, clock: Clock
) -> None:
    """Issue 8's case with the registry's own records processor: the webhook-like handler
    after it fails on the event, the order is created anyway, and only the failing handler
    is retried."""
    store_id = new_store(own_db)
    writer = IngestWriter(own_db)
    writer.start()
    try:
        writer.submit_sync([lifecycle(store_id, "order", "created", ORDER)])
    finally:
        writer.stop()
    broken = [True]

    def fan_out(_session: Session, _event: Event) -> None:
        if broken[0]:
            raise RuntimeError("receiver down")

    handlers = [
        Handler(records.process_event, records.wants),
        Handler(fan_out, name="webhooks-like"),
    ]

    assert process_events(own_db, handlers, 100, clock=clock) == 1
    assert orders(own_db, store_id) == [ORDER["id"]]
    (failure,) = failures(own_db)
    assert failure.handler == "webhooks-like"

    broken[0] = False
    clock.advance(3600)
    assert process_events(own_db, handlers, 100, clock=clock) == 1
    assert failures(own_db) == []
    assert orders(own_db, store_id) == [ORDER["id"]]


def orders(db: Database, store_id: int) -> list[str | None]:
    with db.read() as session:
        query = select(Order.external_id).where(Order.store_id == store_id)
        return list(session.scalars(query))
