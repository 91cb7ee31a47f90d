"""A pass's flows work in two halves: ``plan`` reads and decides (on SQLite in a read
transaction, without the write lock), ``apply`` writes. Here the halves are called as the
queue calls them on SQLite, in two transactions, with the API acting in between: a plan
whose flow, runs or contacts changed meanwhile is not written as planned; the pass's events
are handled again in the write transaction. On both engines, with the clock injected; and
the trigger's view of an event, built from the queue's plain rows, is the API's."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.events.schemas import event_view
from cartwheel.flows import stored_trigger, timers, triggers
from cartwheel.models import Event, FlowRun
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import BROWSE, Clock, pending_rows, publish, statements, step_log
from tests.segments.helpers import track


def _plan(db: Database, flows: triggers.Flows, store_id: int) -> triggers.Plan | None:
    """The reading half, in a read transaction (SQLite: no write lock), over every pending
    event, as the queue runs it."""
    with db.read() as session:
        for row in pending_rows(session, store_id):
            flows.process_event(session, row)
        return flows.plan(session)


def _apply(db: Database, flows: triggers.Flows, planned: triggers.Plan | None) -> None:
    with db.transaction() as session:
        flows.apply(session, planned)


def _runs(db: Database, flow_id: int) -> list[tuple[int, int, str, str | None, bool]]:
    with db.read() as session:
        return [
            (r.id, r.contact_id, r.state, r.step, r.test)
            for r in session.scalars(
                select(FlowRun).where(FlowRun.flow_id == flow_id).order_by(FlowRun.id)
            )
        ]


def _ann_views(runtime: Runtime, store: StoreFixture, clock: Clock, sku: str = "A") -> int:
    """Ann views a product (A: every flow of these tests starts on it) now; her contact id."""
    return track(
        runtime, store.store_id, "ann@plan.io", "Viewed Product", at=clock.now,
        properties={"sku": sku},
    )  # fmt: skip


def test_a_plan_nothing_changed_is_written_as_planned(
    client: TestClient, runtime: Runtime, db: Database, store: StoreFixture, clock: Clock
) -> None:
    flow = publish(client, store, BROWSE)
    ann = _ann_views(runtime, store, clock)
    flows = triggers.Flows(clock)
    planned = _plan(db, flows, store.store_id)
    assert planned is not None and planned.statements  # decided, nothing written yet
    assert _runs(db, flow) == []
    _apply(db, flows, planned)
    [(run_id, contact, state, step, test)] = _runs(db, flow)
    assert (contact, state, step, test) == (ann, "active", "wait", False)
    assert step_log(db, flow) == [(run_id, 1, "wait", "waiting")]


def test_a_plan_no_run_changed_since_is_checked_without_reading_the_runs_again(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """SQLite counts the changes to existing runs (migration 0029): the same count in the
    write transaction as in the plan's means none of them changed, and the check reads
    that count instead of the contacts' active runs. (PostgreSQL makes and applies its
    plans in one transaction; called apart, as here, it reads the runs again.)"""
    flow = publish(client, store, BROWSE)
    _ann_views(runtime, store, clock)
    flow_worker.drain()
    clock.advance(minutes=5)
    _ann_views(runtime, store, clock)  # refreshes the run
    flows = triggers.Flows(clock)
    planned = _plan(db, flows, store.store_id)
    with statements(db) as sent:
        _apply(db, flows, planned)
    reread = [s for s in sent if "flow_runs.seq" in s and s.startswith("SELECT")]
    assert len(reread) == (0 if db.is_sqlite else 1)
    [(_, _, state, step, _)] = _runs(db, flow)
    assert (state, step) == ("active", "wait")
    with db.read() as session:
        refreshed = select(FlowRun.trigger_at).where(FlowRun.flow_id == flow)
        assert session.scalars(refreshed).one() == clock.now


def test_a_flow_paused_between_plan_and_apply_starts_nothing(
    client: TestClient, runtime: Runtime, db: Database, store: StoreFixture, clock: Clock
) -> None:
    flow = publish(client, store, BROWSE)
    _ann_views(runtime, store, clock)
    flows = triggers.Flows(clock)
    planned = _plan(db, flows, store.store_id)
    assert planned is not None and planned.statements
    paused = client.post(f"/v1/flows/{flow}/pause", headers=store.headers)
    assert paused.status_code == 200, paused.text
    _apply(db, flows, planned)
    assert _runs(db, flow) == []  # a paused flow starts no runs
    assert step_log(db, flow) == []


def test_a_run_started_between_plan_and_apply_keeps_its_id(
    client: TestClient, runtime: Runtime, db: Database, store: StoreFixture, clock: Clock
) -> None:
    """A test run through the API takes an id meanwhile; the pass's run gets another one
    (on SQLite the plan drew its ids after the highest it saw, and draws again; on
    PostgreSQL from the sequence)."""
    flow = publish(client, store, BROWSE)
    ann = _ann_views(runtime, store, clock)
    bob = track(runtime, store.store_id, "bob@plan.io", "Signed Up", at=clock.now)
    flows = triggers.Flows(clock)
    planned = _plan(db, flows, store.store_id)
    tested = client.post(f"/v1/flows/{flow}/test", json={"contactId": bob}, headers=store.headers)
    assert tested.status_code == 200, tested.text
    _apply(db, flows, planned)
    runs = {(contact, state, test): run_id for run_id, contact, state, _, test in _runs(db, flow)}
    assert set(runs) == {(bob, "done", True), (ann, "active", False)}
    assert len(set(runs.values())) == 2
    assert (runs[(ann, "active", False)], 1, "wait", "waiting") in step_log(db, flow)


def test_a_contact_deleted_between_plan_and_apply_gets_no_run(
    client: TestClient, runtime: Runtime, db: Database, store: StoreFixture, clock: Clock
) -> None:
    flow = publish(client, store, BROWSE)
    ann = _ann_views(runtime, store, clock)
    flows = triggers.Flows(clock)
    planned = _plan(db, flows, store.store_id)
    deleted = client.delete(f"/v1/contacts/{ann}", headers=store.headers)
    assert deleted.status_code in (200, 204), deleted.text
    _apply(db, flows, planned)
    assert _runs(db, flow) == []  # handled again: the contact is gone


def test_the_trigger_reads_back_as_the_api_view_of_its_event(
    runtime: Runtime, db: Database, store: StoreFixture, clock: Clock
) -> None:
    """Kept from the queue's plain row or from the ORM object, a run's trigger reads back
    as what ``GET /v1/events`` shows of its event, with the event's entity."""
    track(
        runtime,
        store.store_id,
        "ann@plan.io",
        "Order Completed",
        at=clock.now,
        properties={"sku": "A", "items": [{"sku": "A", "qty": 2}], "when": "2026-04-02"},
        value=42,
        category="order",
        action="completed",
        entity={"id": "o-1", "lines": [{"sku": "A"}]},
    )
    track(runtime, store.store_id, "bob@plan.io", "Viewed Product", at=clock.now)
    with db.read() as session:
        events = list(
            session.scalars(
                select(Event).where(Event.store_id == store.store_id).order_by(Event.id)
            )
        )
        rows = pending_rows(session, store.store_id)
        assert len(events) == len(rows) == 2
        for event, row in zip(events, rows, strict=True):
            view = event_view(event).model_dump(mode="json")
            kept = stored_trigger.of_event(row)
            assert kept == stored_trigger.of_event(event)
            assert stored_trigger.whole(session, store.store_id, kept) == {
                "source": "event",
                "event": view,
                "entity": event.entity,
                "record": None,
            }


def test_a_run_the_sweep_advanced_between_plan_and_apply_is_not_written_back(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """The timer sweep takes no worker lease: it may end a run the plan read as active.
    Written as planned, the plan would put the run back at its wait; handled again, the
    run stays done and the new view starts a run of its own."""
    flow = publish(client, store, BROWSE)
    ann = _ann_views(runtime, store, clock)
    flow_worker.drain()
    [(first, _, state, _, _)] = _runs(db, flow)
    assert state == "active"
    clock.advance(hours=2)
    _ann_views(runtime, store, clock)
    flows = triggers.Flows(clock)
    planned = _plan(db, flows, store.store_id)
    timers.sweep(db, clock.now)  # the wait is over: the run ends
    assert [(run_id, state) for run_id, _, state, _, _ in _runs(db, flow)] == [(first, "done")]
    _apply(db, flows, planned)
    runs = [(run_id, contact, state) for run_id, contact, state, _, _ in _runs(db, flow)]
    assert runs[0] == (first, ann, "done")
    assert [(contact, state) for _, contact, state in runs[1:]] == [(ann, "active")]


#: BROWSE's steps, started by a cart and ended by any view: every one of a person's runs
#: is for the pass's views to move.
CART_UNTIL_VIEW = {
    **BROWSE,
    "name": "Cart left, until a view",
    "trigger": {"event": {"category": "cart", "action": "updated"}, "key": "entity.id"},
    "exitOn": [{"event": "Viewed Product"}],
}


def test_a_plan_reads_of_a_flow_its_events_do_not_move_only_the_runs_of_their_keys(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """Ann's views move none of her browse-abandonment runs (asleep on their timers), so
    the pass reads of them only the run of the product she views again, which it
    refreshes; her cart's run ends on a view, so it is read whatever its key."""
    browse = publish(client, store, BROWSE)
    cart = publish(client, store, CART_UNTIL_VIEW)
    viewed = clock.now
    for sku in ("A", "B", "C"):
        _ann_views(runtime, store, clock, sku)
    clock.advance(minutes=1)
    track(
        runtime, store.store_id, "ann@plan.io", "cart updated", at=clock.now,
        category="cart", action="updated", entity={"id": "c-1"},
    )  # fmt: skip
    flow_worker.drain()
    asleep = _keyed_runs(db, browse)
    [(cart_run, _, state, _, _)] = _runs(db, cart)
    assert state == "active"
    clock.advance(minutes=10)
    _ann_views(runtime, store, clock, "B")  # refreshes B's run, ends the cart's
    _ann_views(runtime, store, clock, "D")  # starts a run
    flows = triggers.Flows(clock)
    planned = _plan(db, flows, store.store_id)
    assert planned is not None
    assert sorted(head.id for head in planned.heads) == sorted([asleep["B"], cart_run])
    _apply(db, flows, planned)
    after = _keyed_runs(db, browse)
    assert sorted(after) == ["A", "B", "C", "D"] and after["B"] == asleep["B"]
    with db.read() as session:
        triggered = select(FlowRun.key, FlowRun.trigger_at).where(FlowRun.flow_id == browse)
        trigger_at = {key: at for key, at in session.execute(triggered)}
    assert (trigger_at["A"], trigger_at["B"], trigger_at["C"]) == (viewed, clock.now, viewed)
    assert [state for _, _, state, _, _ in _runs(db, cart)] == ["exited"]


def _keyed_runs(db: Database, flow_id: int) -> dict[str, int]:
    """The flow's runs' ids by key."""
    with db.read() as session:
        rows = session.execute(select(FlowRun.key, FlowRun.id).where(FlowRun.flow_id == flow_id))
        return dict(rows.all())


def test_a_pass_over_two_stores_gives_their_new_runs_ids_of_their_own(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
    clock: Clock,
) -> None:
    """Both stores' runs are planned before either is written: the second store's ids
    follow the first's."""
    mine = publish(client, store, BROWSE)
    theirs = publish(client, other_store, BROWSE)
    for owner in (store, other_store):
        _ann_views(runtime, owner, clock)
    flows = triggers.Flows(clock)
    with db.read() as session:
        for owner in (store, other_store):
            for row in pending_rows(session, owner.store_id):
                flows.process_event(session, row)
        planned = flows.plan(session)
    _apply(db, flows, planned)
    [(first, *_)] = _runs(db, mine)
    [(second, *_)] = _runs(db, theirs)
    assert first != second
    assert {(run_id, seq) for run_id, seq, *_ in step_log(db, mine) + step_log(db, theirs)} == {
        (first, 1),
        (second, 1),
    }
