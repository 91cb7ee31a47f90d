"""Several loops in one worker (``CARTWHEEL_WORKER_CONCURRENCY``): every event, outbox
message, due flow run and webhook delivery is handled exactly once, counted by what the real
handlers of the registry did (flow runs, their step log, what a loopback receiver got); the
setting is validated; stopping ends every loop after its pass, and a stopped or killed
``cartwheel worker`` leaves nothing half done. On both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select, text

from cartwheel import outbox
from cartwheel.app import build_runtime
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints
from cartwheel.ingest.writer import IngestWriter
from cartwheel.models import Contact, Event, Flow, FlowRun, FlowRunStep, OutboxMessage, PendingEvent
from cartwheel.runtime import Runtime
from cartwheel.stores import service as stores
from cartwheel.worker import registry
from cartwheel.worker.queue import Handler, Share, process_events, process_outbox
from cartwheel.worker.runner import DEFAULT_CONCURRENCY, Worker, concurrency
from tests.conftest import TEST_SECRET_KEY, StoreFixture
from tests.flows.helpers import Clock, publish
from tests.segments.helpers import create_segment
from tests.webhooks.conftest import Receiver, create_webhook, receiver  # noqa: F401

LOOPS = 3
PEOPLE = 120
#: Small batches, so the loops' passes interleave many times over the backlog.
BATCH = 8


def once_per_order(name: str) -> dict[str, Any]:
    """The order confirmation's shape: a run per order that ends at once, never again for
    the same order."""
    return {
        "name": name,
        "trigger": {"event": "Order Event", "key": "properties.order"},
        "entry": {"reentry": "never"},
        "start": "end",
        "steps": {"end": {"type": "exit"}},
    }


def per_event_flow(name: str) -> dict[str, Any]:
    """A run for every "Loop Visit" event (any number per key, re-entry always): an event
    handled twice would start a second run of its key."""
    return {
        "name": name,
        "trigger": {"event": "Loop Visit", "key": "properties.n"},
        "entry": {"reentry": "always", "perKey": "many"},
        "start": "wait",
        "steps": {
            "wait": {"type": "wait", "for": {"hours": 1}, "next": "end"},
            "end": {"type": "exit"},
        },
    }


def visits(runtime: Runtime, store_id: int, at: datetime, first: int = 0) -> list[str]:
    """One "Loop Visit" event of each of ``PEOPLE`` people, stored through the writer;
    their keys."""
    events = []
    for n in range(first, first + PEOPLE):
        hints = IdentityHints()
        hints.add("email", f"loop{n}@example.com")
        events.append(
            CanonicalEvent(
                store_id=store_id,
                name="Loop Visit",
                identity=hints,
                occurred_at=at,
                properties={"n": str(n)},
            )
        )
    runtime.writer.submit_sync(events)
    return [str(n) for n in range(first, first + PEOPLE)]


def pending(db: Database, store_id: int) -> int:
    """The store's events and outbox messages not yet processed."""
    with db.read() as session:
        events = session.scalar(select(func.count()).where(PendingEvent.store_id == store_id))
        messages = session.scalar(
            select(func.count()).where(
                OutboxMessage.store_id == store_id, OutboxMessage.processed_at.is_(None)
            )
        )
    return int(events or 0) + int(messages or 0)


def keys_of(db: Database, flow_id: int) -> Counter[str | None]:
    with db.read() as session:
        return Counter(session.scalars(select(FlowRun.key).where(FlowRun.flow_id == flow_id)))


def runs_beyond(db: Database, flow_id: int, keys: list[str]) -> str:
    """The flow's runs whose key is not one of ``keys``, whole, with the stores of their
    flow and contact, the contact's events and other runs, and the published flows of the
    run's store, so that a failure says where an extra run came from (as JSON: pytest
    would shorten a structure)."""
    with db.read() as session:
        found = session.scalars(
            select(FlowRun).where(FlowRun.flow_id == flow_id, FlowRun.key.not_in(keys))
        ).all()
        described = []
        for run in found:
            flow = session.get(Flow, run.flow_id)
            contact = session.get(Contact, run.contact_id)
            events = session.scalars(
                select(Event).where(Event.contact_id == run.contact_id).order_by(Event.id)
            ).all()
            others = session.scalars(
                select(FlowRun).where(FlowRun.contact_id == run.contact_id, FlowRun.id != run.id)
            ).all()
            flows = session.scalars(
                select(Flow).where(Flow.store_id == run.store_id).order_by(Flow.id)
            ).all()
            described.append(
                {
                    "run": {c.key: getattr(run, c.key) for c in FlowRun.__mapper__.column_attrs},
                    "contact's other runs": [
                        [r.id, r.flow_id, r.store_id, r.key, r.state, r.test, r.started_at]
                        for r in others
                    ],
                    "run's store's flows": [
                        [f.id, f.name, f.state, f.version, f.mentions, f.deleted_at] for f in flows
                    ],
                    "flow": {"id": flow_id, "store": flow.store_id if flow else None},
                    "contact": {"store": contact.store_id if contact else None},
                    "events": [
                        {"id": e.id, "store": e.store_id, "name": e.name, "at": e.occurred_at}
                        for e in events
                    ],
                }
            )
    return json.dumps(described, default=str, indent=1)


def people_of(db: Database, flow_id: int) -> Counter[int]:
    with db.read() as session:
        return Counter(
            session.scalars(select(FlowRun.contact_id).where(FlowRun.flow_id == flow_id))
        )


def done_steps(db: Database, flow_id: int, step: str) -> Counter[int]:
    """Per run of the flow, how many of its log rows say ``step`` is done."""
    with db.read() as session:
        return Counter(
            session.scalars(
                select(FlowRunStep.run_id).where(
                    FlowRunStep.flow_id == flow_id,
                    FlowRunStep.step == step,
                    FlowRunStep.status == "done",
                )
            )
        )


def active_runs(db: Database, flow_ids: list[int]) -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count()).where(FlowRun.flow_id.in_(flow_ids), FlowRun.state == "active")
            )
            or 0
        )


def settle(done: Callable[[], bool], limit: float = 180.0) -> None:
    """Wait until ``done()`` holds (the loops work in the background); the limit only keeps
    a broken worker from hanging the suite: what is asserted is what was done, not when."""
    deadline = time.monotonic() + limit
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def loops(db: Database, settings: Settings) -> Iterator[Callable[[Clock], Worker]]:
    """Start a worker of ``LOOPS`` loops on a clock; each is stopped at the end."""
    started: list[Worker] = []
    small = settings.model_copy(update={"worker_batch_size": BATCH, "flows_batch_size": BATCH})

    def start(clock: Clock) -> Worker:
        worker = Worker(db, small, clock=clock, concurrency=LOOPS)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_several_loops_handle_every_event_message_timer_and_delivery_once(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    receiver: Receiver,  # noqa: F811
    loops: Callable[[Clock], Worker],
) -> None:
    clock = Clock()
    segment = create_segment(client, store, {"event": "Loop Visit"}, name="visited")
    per_event = publish(client, store, per_event_flow("Per visit"))
    entered = publish(
        client,
        store,
        {
            "name": "Entered",
            "trigger": {"segment_entered": segment["id"]},
            "entry": {"reentry": "always", "perKey": "many"},
            "start": "wait",
            "steps": {
                "wait": {"type": "wait", "for": {"hours": 1}, "next": "end"},
                "end": {"type": "exit"},
            },
        },
    )
    # Every run started and every segment entry is also a webhook delivery (the outbox,
    # its fan-out and the delivery task, in every loop).
    create_webhook(client, store, receiver.url, ["flow_run_started", "segment_entered"])
    keys = visits(runtime, store.store_id, clock.now)

    worker = loops(clock)
    assert worker.concurrency == LOOPS
    settle(lambda: pending(db, store.store_id) == 0 and len(receiver.requests) >= 3 * PEOPLE)
    settle(lambda: len(receiver.requests) > 3 * PEOPLE, limit=1.0)  # anything more?

    # Each event started one run of its key; each segment entry (an outbox message) one.
    found = keys_of(db, per_event)
    if found != Counter(keys):
        missing, extra = Counter(keys) - found, found - Counter(keys)
        pytest.fail(
            f"keys missing {dict(missing)}, extra {dict(extra)}; runs beyond the events' keys:\n"
            + runs_beyond(db, per_event, keys)
        )
    entered_runs = people_of(db, entered)
    assert len(entered_runs) == PEOPLE
    assert set(entered_runs.values()) == {1}  # one per person
    # Each delivery reached the receiver once: no webhook-id twice, none missing.
    ids = Counter(r.message_id for r in receiver.requests)
    assert len(ids) == 3 * PEOPLE
    assert set(ids.values()) == {1}

    # The timers: an hour on, the sweep (in every loop) advances each run once.
    clock.advance(hours=2)
    worker.wake()
    settle(lambda: active_runs(db, [per_event, entered]) == 0)
    for flow_id in (per_event, entered):
        waited = done_steps(db, flow_id, "wait")
        assert len(waited) == PEOPLE
        assert set(waited.values()) == {1}
        ended = done_steps(db, flow_id, "end")
        assert len(ended) == PEOPLE
        assert set(ended.values()) == {1}
    assert worker.running
    worker.stop()
    assert not worker.running


def test_stop_ends_every_loop(db: Database, settings: Settings) -> None:
    worker = Worker(db, settings, concurrency=LOOPS)
    worker.start()
    named = {t.name for t in threading.enumerate()}
    assert {f"worker-{n}" for n in range(1, LOOPS + 1)} <= named
    assert worker.running
    worker.stop()
    assert not worker.running
    named = {t.name for t in threading.enumerate()}
    assert not {f"worker-{n}" for n in range(1, LOOPS + 1)} & named


def test_the_setting_is_validated_and_defaults_by_engine(db: Database, settings: Settings) -> None:
    for bad in (0, -1, 17):
        with pytest.raises(ValidationError, match="worker_concurrency"):
            Settings(worker_concurrency=bad)
    with pytest.raises(ValidationError, match="worker_concurrency"):
        Settings(worker_concurrency="two")
    assert concurrency(settings.model_copy(update={"worker_concurrency": 5}), db) == 5
    expected = 1 if db.is_sqlite else 2
    assert DEFAULT_CONCURRENCY[db.engine.dialect.name] == expected
    assert concurrency(settings, db) == expected  # the test settings leave it unset
    with pytest.raises(ValueError, match="at least one loop"):
        Worker(db, settings, concurrency=0)


def worker_env(db: Database, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "CARTWHEEL_DATABASE_URL": db.url,
        "CARTWHEEL_SECRET_KEYS": TEST_SECRET_KEY,
        "CARTWHEEL_RUN_WORKER_IN_PROCESS": "false",
        **extra,
    }


@pytest.mark.parametrize("value", ["0", "many", "17"])
def test_a_bad_setting_stops_the_command_with_a_clear_error(db: Database, value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cartwheel", "worker"],
        env=worker_env(db, CARTWHEEL_WORKER_CONCURRENCY=value),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "error: CARTWHEEL_WORKER_CONCURRENCY: " in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_stopped_or_killed_worker_leaves_nothing_half_done(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    settings: Settings,
    store: StoreFixture,
    how: signal.Signals,
) -> None:
    """``cartwheel worker`` with several loops is stopped (or killed) in the middle of a
    backlog: a signal lets each loop commit the pass it is in and exits 0; a kill loses
    the passes in flight, whose rows are still pending. Either way a worker run
    afterwards handles the rest, and each event started exactly one run."""
    flow_id = publish(client, store, per_event_flow("Stopped"))
    keys = visits(runtime, store.store_id, Clock().now)
    env = worker_env(db, CARTWHEEL_WORKER_CONCURRENCY="2", CARTWHEEL_WORKER_BATCH_SIZE="4")
    process = subprocess.Popen(
        [sys.executable, "-m", "cartwheel", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        settle(lambda: sum(keys_of(db, flow_id).values()) >= PEOPLE // 4, limit=120)
        process.send_signal(how)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == (-signal.SIGKILL if how == signal.SIGKILL else 0)
    before = keys_of(db, flow_id)
    assert sum(before.values()) > 0
    assert set(before.values()) == {1}  # what was committed was committed once

    Worker(db, settings).drain()
    assert pending(db, store.store_id) == 0
    assert keys_of(db, flow_id) == Counter(keys)


def test_two_passes_at_once_start_a_never_again_flow_once(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    settings: Settings,
    store: StoreFixture,
) -> None:
    """The order confirmation's shape: a run per order that ends at once, never again for
    the same order. An order's "paid" and "completed" events arrive together and two
    passes claim one each (PostgreSQL; on SQLite passes hold the worker lease in turn):
    one run, one confirmation, whichever pass commits first."""
    if db.is_sqlite:
        pytest.skip("on SQLite passes hold the worker lease in turn")
    clock = Clock()
    Worker(db, settings, clock=clock).drain()  # nothing else pending: each pass claims one
    flow_id = publish(client, store, once_per_order("Once per order"))
    for name in ("paid", "completed"):
        hints = IdentityHints()
        hints.add("email", "buyer@example.com")
        event = CanonicalEvent(
            store_id=store.store_id,
            name="Order Event",
            identity=hints,
            occurred_at=clock.now,
            properties={"order": "o-1", "status": name},
        )
        runtime.writer.submit_sync([event])

    first_holds_while_second_runs(
        db,
        lambda holding: process_events(db, [*registry.event_processors(clock), holding], 1),
        lambda: process_events(db, registry.event_processors(clock), 1),
    )
    with db.read() as session:
        left = session.scalars(
            select(PendingEvent.id).where(PendingEvent.store_id == store.store_id)
        )
        assert left.all() == []  # both passes committed
    assert keys_of(db, flow_id) == Counter({"o-1": 1})


def first_holds_while_second_runs(
    db: Database, first: Callable[[Handler], Any], second: Callable[[], Any]
) -> None:
    """Two passes at once: ``first`` (a pass given one more handler, which holds it after
    its work and before it commits) in a thread, and ``second`` once the first holds. The
    first commits once the second has, or once the second waits for it (flows' per-contact
    lock, engine.hold_contacts)."""
    holding_now = threading.Event()
    second_done = threading.Event()

    def hold(_session: Any) -> None:
        holding_now.set()
        settle(lambda: second_done.is_set() or waiting_for_a_lock(db), limit=20)

    holding = Handler(lambda _s, _row: None, name="tests.worker.hold", flush=hold)
    thread = threading.Thread(target=first, args=(holding,))
    thread.start()
    # (Polling for the first pass's claimed row with FOR UPDATE SKIP LOCKED would lock the
    # rows it polls, and a claim at that moment would skip them: the pass says instead.)
    assert holding_now.wait(timeout=60)
    second()
    second_done.set()
    thread.join(timeout=60)


def waiting_for_a_lock(db: Database) -> bool:
    """Whether a session of this database waits for flows' per-contact lock (PostgreSQL)."""
    with db.read() as session:
        found = session.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).scalar()
    return bool(found)


def test_the_loops_of_one_worker_start_a_never_again_flow_once(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    loops: Callable[[Clock], Worker],
) -> None:
    """The same order events as above, many orders at once, under one worker's loops: each
    person's events are one loop's share, so each order starts one run. (The log holds a
    batch of "paid" events, then their "completed" ones, and so on: without shares, the
    loops' passes claim both of an order's events at once.)"""
    clock = Clock()
    flow_id = publish(client, store, once_per_order("Once per order, loops"))
    events = []
    for first in range(0, PEOPLE, BATCH):
        for name, n in [
            (name, n) for name in ("paid", "completed") for n in range(first, first + BATCH)
        ]:
            hints = IdentityHints()
            hints.add("email", f"buyer{n}@example.com")
            events.append(
                CanonicalEvent(
                    store_id=store.store_id,
                    name="Order Event",
                    identity=hints,
                    occurred_at=clock.now,
                    properties={"order": f"o-{n}", "status": name},
                )
            )
    runtime.writer.submit_sync(events)
    loops(clock)
    settle(lambda: pending(db, store.store_id) == 0)
    assert keys_of(db, flow_id) == Counter({f"o-{n}": 1 for n in range(PEOPLE)})


def test_a_share_claims_the_events_of_its_contacts(own_db: Database) -> None:
    """Each loop's share is the events of the contacts whose id is its number modulo the
    number of loops; together the shares are every event, each once."""
    with own_db.transaction() as session:
        store_id = stores.create_store(session, "shares").store_id
    writer = IngestWriter(own_db)
    writer.start()
    try:
        batch = []
        for n in range(40):
            hints = IdentityHints()
            hints.add("email", f"share{n % 13}@example.com")
            batch.append(CanonicalEvent(store_id=store_id, name=f"e{n}", identity=hints))
        writer.submit_sync(batch)
    finally:
        writer.stop()
    seen: dict[int, list[tuple[int | None, str]]] = {0: [], 1: [], 2: []}
    for index in (2, 0, 1):

        def record(_session: Any, event: Event, index: int = index) -> None:
            seen[index].append((event.contact_id, event.name))

        while process_events(own_db, [record], 5, share=Share(index, 3)):
            pass
    for index, handled in seen.items():
        assert handled
        assert {contact % 3 for contact, _ in handled if contact is not None} == {index}
    names = [name for handled in seen.values() for _, name in handled]
    assert sorted(names) == sorted(f"e{n}" for n in range(40))
    with own_db.read() as session:
        assert session.scalar(select(func.count()).select_from(PendingEvent)) == 0
    with pytest.raises(ValueError, match="share"):
        Share(3, 3)


def test_the_servers_in_process_worker_runs_one_loop(db: Database, settings: Settings) -> None:
    """It shares the API's interpreter: the setting is ``cartwheel worker``'s."""
    runtime = build_runtime(settings.model_copy(update={"worker_concurrency": 4}), db)
    assert runtime.worker.concurrency == 1


def test_an_event_and_a_message_at_once_start_a_never_again_flow_once(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    settings: Settings,
    store: StoreFixture,
) -> None:
    """A flow started by an event or by a segment entry, once per person: the person's
    event and their entry, in an outbox pass and an event pass at once (two loops, two
    workers), start one run whichever commits first (PostgreSQL; on SQLite passes take
    turns)."""
    if db.is_sqlite:
        pytest.skip("on SQLite passes hold the worker lease in turn")
    clock = Clock()
    segment = create_segment(client, store, {"event": "Never Again Entry"}, name="entered")
    flow_id = publish(
        client,
        store,
        {
            "name": "Once per person",
            "trigger": {"any": [{"event": "Order Event"}, {"segment_entered": segment["id"]}]},
            "entry": {"reentry": "never"},
            "start": "end",
            "steps": {"end": {"type": "exit"}},
        },
    )
    hints = IdentityHints()
    hints.add("email", "both@example.com")
    event = CanonicalEvent(
        store_id=store.store_id, name="Order Event", identity=hints, occurred_at=clock.now
    )
    [result] = runtime.writer.submit_sync([event])
    contact_id = getattr(result, "contact_id", None)
    assert isinstance(contact_id, int)
    # What ingest announced (the new contact), so that the entry is the outbox's only row;
    # the event stays pending.
    process_outbox(db, registry.outbox_consumers(clock), 1000)
    with db.transaction() as session:
        payload = {"contact_id": contact_id, "segment_id": segment["id"]}
        outbox.emit(session, store.store_id, "segment_entered", payload)

    first_holds_while_second_runs(
        db,
        lambda holding: process_outbox(db, [*registry.outbox_consumers(clock), holding], 1),
        lambda: process_events(db, registry.event_processors(clock), 1),
    )
    with db.read() as session:
        runs = session.scalars(select(FlowRun.contact_id).where(FlowRun.flow_id == flow_id))
        assert runs.all() == [contact_id]
        left = session.scalars(
            select(Event.id)
            .join(PendingEvent, PendingEvent.id == Event.id)
            .where(Event.contact_id == contact_id)
        )
        assert left.all() == []
