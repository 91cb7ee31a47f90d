"""Which of a contact's active runs an event moves, and what the pass writes of them: a run
asleep on a ``wait`` timer is left alone by its trigger's events (the sweep wakes it), a
later event of its own key rewrites only its trigger columns, an ``exitOn`` event still
ends it wherever it waits, a pass reads whole only the runs it may move, a refresh never
rewrites a run ended meanwhile, and the sweep leaves alone the runs of a contact a pass
holds. Each test watches the statements the worker's pass sends or the runs it leaves. On
both engines, with the clock injected."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cartwheel.db import Database
from cartwheel.flows import engine, timers
from cartwheel.models import FlowRun
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import BROWSE, Clock, publish, runs, statements, track

_RUN_UPDATE = re.compile(r"UPDATE flow_runs SET (.*?) (?:FROM|WHERE) ", re.DOTALL)

#: BROWSE, ended by any cart change of the person.
BROWSE_UNTIL_CART = {
    **BROWSE,
    "name": "Browse, until a cart",
    "exitOn": [{"event": {"category": "cart", "action": "updated"}}],
}


#: How the pass reads runs whole (``triggers._runs``: its columns begin with the store).
_WHOLE_RUNS = "SELECT flow_runs.store_id, flow_runs.flow_id, flow_runs.version"


def run_updates(sent: list[str]) -> list[list[str]]:
    """The columns each ``UPDATE flow_runs`` among ``sent`` sets, one list per statement."""
    found = [_RUN_UPDATE.match(statement) for statement in sent]
    return [
        [part.split("=")[0].strip().strip('"') for part in match.group(1).split(",")]
        for match in found
        if match is not None
    ]


def _view(runtime: Runtime, store: StoreFixture, clock: Clock, sku: str) -> int:
    return track(
        runtime, store.store_id, "ann@wakes.io", "Viewed Product", at=clock.now,
        properties={"sku": sku},
    )  # fmt: skip


def _one_run(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> tuple[int, FlowRun]:
    """BROWSE published, Ann's run for product A started; ten minutes later. The flow's
    id and the run as it was written."""
    flow = publish(client, store, BROWSE)
    _view(runtime, store, clock, "A")
    flow_worker.drain()
    [run] = runs(db, flow)
    clock.advance(minutes=10)
    return flow, run


def test_a_run_asleep_on_its_timer_is_not_rewritten_by_its_triggers_next_events(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow, before = _one_run(client, runtime, db, store, clock, flow_worker)
    _view(runtime, store, clock, "B")
    with statements(db) as sent:
        flow_worker.drain()
    assert run_updates(sent) == []
    # The pass read its contact once (for the runs it started and those it read).
    assert len([s for s in sent if s.startswith("SELECT contacts.id, contacts.store_id")]) == 1
    first, second = runs(db, flow)
    assert (first.id, first.key, second.key) == (before.id, "A", "B")
    assert (first.seq, first.updated_at, first.wake_at, first.trigger_at) == (
        before.seq, before.updated_at, before.wake_at, before.trigger_at,
    )  # fmt: skip
    # Its timer still ends it, through the sweep, an hour after it began.
    clock.advance(minutes=50)
    flow_worker.drain()
    first, second = runs(db, flow)
    assert (first.state, first.finished_at) == ("done", before.started_at + timedelta(hours=1))
    assert second.state == "active"


def test_a_later_event_of_the_runs_key_writes_its_trigger_columns_alone(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow, before = _one_run(client, runtime, db, store, clock, flow_worker)
    _view(runtime, store, clock, "A")
    with statements(db) as sent:
        flow_worker.drain()
    assert run_updates(sent) == [["trigger_at", "trigger", "updated_at"]]
    [after] = runs(db, flow)
    events = client.get("/v1/events", headers=store.headers).json()["items"]
    latest = max(events, key=lambda e: e["occurredAt"])
    assert (after.trigger_at, after.updated_at) == (clock.now, clock.now)
    assert after.trigger == {"source": "event", "eventId": latest["id"]}
    assert (after.state, after.step, after.seq, after.wake_at, after.slot) == (
        "active", "wait", before.seq, before.wake_at, "A",
    )  # fmt: skip


def test_an_exit_event_still_ends_a_run_asleep_on_its_timer(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, BROWSE_UNTIL_CART)
    _view(runtime, store, clock, "A")
    flow_worker.drain()
    clock.advance(minutes=10)
    track(
        runtime, store.store_id, "ann@wakes.io", "cart updated", at=clock.now,
        category="cart", action="updated", entity={"id": "c-1"},
    )  # fmt: skip
    flow_worker.drain()
    [run] = runs(db, flow)
    assert (run.state, run.finished_at, run.wake_at) == ("exited", clock.now, None)
    assert run.reason is not None and run.reason.startswith("exitOn: cart updated")


def test_a_pass_reads_whole_only_the_runs_it_may_move(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, BROWSE)
    for sku in ("A", "B", "C"):
        _view(runtime, store, clock, sku)
    flow_worker.drain()
    asleep = {run.key: run for run in runs(db, flow)}
    clock.advance(minutes=10)
    _view(runtime, store, clock, "B")  # refreshes B's run
    _view(runtime, store, clock, "D")  # starts a run
    with statements(db, parameters=True) as sent:
        flow_worker.drain()
    # Ann's three runs asleep on their timers were looked at; none was read whole: the
    # refresh of B's writes its trigger by id, from what the look saw.
    assert [s for s, _ in sent if s.startswith(_WHOLE_RUNS)] == []
    after = {run.key: run for run in runs(db, flow)}
    assert sorted(after) == ["A", "B", "C", "D"]
    assert after["B"].trigger_at == clock.now
    assert after["B"].trigger["source"] == "event" and after["B"].trigger != asleep["B"].trigger
    assert (after["B"].state, after["B"].step, after["B"].seq, after["B"].wake_at) == (
        "active", "wait", asleep["B"].seq, asleep["B"].wake_at,
    )  # fmt: skip
    for key in ("A", "C"):
        assert after[key].updated_at == asleep[key].updated_at


def test_a_held_runs_refresh_is_not_written_once_the_run_has_ended(
    runtime: Runtime, db: Database, store: StoreFixture, client: TestClient, clock: Clock,
    flow_worker: Worker,
) -> None:  # fmt: skip
    """A pass reads a run it only refreshes unlocked (:class:`engine.Held`): if the API
    ends it before the pass writes (PostgreSQL: between the two; SQLite: the plan's check
    would redo the pass), the refresh leaves the ended run as the API left it."""
    flow, run = _one_run(client, runtime, db, store, clock, flow_worker)
    held = engine.Held(run.id, run.slot, run.trigger_at, run.updated_at)
    held.trigger_at, held.trigger, held.updated_at = clock.now, {"source": "late"}, clock.now
    with db.transaction() as session:
        session.execute(
            update(FlowRun)
            .where(FlowRun.id == run.id)
            .values(state="exited", reason="The flow was deleted.")
        )
    with db.transaction() as session:
        writes = engine.batch_writes(session)
        writes.refreshed[run.id] = held
        engine.write_batched(session)
    [after] = runs(db, flow)
    assert (after.state, after.trigger_at, after.trigger) == ("exited", run.trigger_at, run.trigger)


def test_the_sweep_leaves_a_run_to_the_pass_that_holds_its_contact(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """PostgreSQL: a pass reads its contacts' runs unlocked, so the sweep must not change
    them meanwhile: a due run whose contact's flows lock is held stays due, and the next
    sweep after the lock is let go advances it."""
    if db.is_sqlite:
        pytest.skip("on SQLite a pass and the sweep take turns on the one write lock")
    flow, before = _one_run(client, runtime, db, store, clock, flow_worker)
    clock.advance(hours=1)  # its timer is due
    with db.transaction() as holding:
        engine.hold_contacts(holding, [before.contact_id])
        timers.sweep(db, clock.now)
        [during] = runs(db, flow)
        assert (during.state, during.wake_at, during.seq) == ("active", before.wake_at, before.seq)
    timers.sweep(db, clock.now)
    [after] = runs(db, flow)
    assert (after.state, after.finished_at) == ("done", clock.now)
