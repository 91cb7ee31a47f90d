"""A pass's new runs and step rows go to the database in bulk (on PostgreSQL a binary
``COPY``, on SQLite one INSERT with many parameter sets), not through the ORM: what the ORM
and the API read back is what the engine decided, every moment in UTC and every JSON
document whole; and a bulk write the database refuses leaves nothing of the batch behind,
on both engines."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.flows import triggers
from cartwheel.models import FlowRun, FlowRunStep
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import BROWSE, Clock, pending_rows, publish
from tests.segments.helpers import track

#: The other worker's run's id: past the ids the plan drew (on SQLite, after the highest).
_FAR = 1_000_000


def _view(runtime: Runtime, store: StoreFixture, clock: Clock) -> int:
    """Ann views product A now; her contact id."""
    return track(
        runtime, store.store_id, "ann@rows.io", "Viewed Product", at=clock.now,
        properties={"sku": "A", "price": 29.99, "viewedAt": "2026-04-02T12:00:00Z"},
    )  # fmt: skip


def test_a_new_run_and_its_visit_read_back_as_the_engine_left_them(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """The run is written alone (the visit it waits in has no row until it ends) and the
    API shows that visit from the run; when the timer ends it, the visit's row is written
    once, from the moment the run reached the step, with the batched step rows after it."""
    flow = publish(client, store, BROWSE)
    ann = _view(runtime, store, clock)
    started = clock.now
    flow_worker.drain()
    deadline = started + timedelta(hours=1)
    with db.read() as session:
        [run] = session.scalars(select(FlowRun).where(FlowRun.flow_id == flow)).all()
        assert session.scalar(select(func.count()).where(FlowRunStep.run_id == run.id)) == 0
        [event] = client.get("/v1/events", headers=store.headers).json()["items"]
        assert (run.store_id, run.contact_id, run.version, run.test) == (
            store.store_id, ann, 1, False,
        )  # fmt: skip
        assert (run.key, run.slot, run.state, run.step, run.seq) == ("A", "A", "active", "wait", 1)
        assert run.waiting == {"kind": "timer"}
        assert (run.deadline, run.wake_at) == (deadline, deadline)
        assert (run.started_at, run.updated_at, run.step_at) == (started,) * 3
        assert run.trigger_at == started and run.finished_at is None and run.reason is None
        # The row keeps the event's id; the run's page shows the event as the API does.
        assert run.trigger == {"source": "event", "eventId": event["id"]}
    page = client.get(f"/v1/flow-runs/{run.id}", headers=store.headers)
    assert page.status_code == 200, page.text
    shown = page.json()["trigger"]
    assert shown == {"source": "event", "event": event, "entity": None, "record": None}
    assert shown["event"]["properties"]["price"] == 29.99
    [step] = page.json()["steps"]
    assert (step["seq"], step["step"], step["type"], step["status"]) == (
        1,
        "wait",
        "wait",
        "waiting",
    )
    assert step["detail"] == {"until": deadline.isoformat()}
    assert (step["reason"], step["finishedAt"]) == (None, None)
    assert _moment(step["enteredAt"]) == started

    woke = clock.advance(hours=1, seconds=5)
    flow_worker.drain()
    with db.read() as session:
        visits = session.scalars(
            select(FlowRunStep).where(FlowRunStep.run_id == run.id).order_by(FlowRunStep.seq)
        ).all()
        assert [(v.seq, v.step, v.type, v.status) for v in visits] == [
            (1, "wait", "wait", "done"), (2, "end", "exit", "done"),
        ]  # fmt: skip
        assert visits[0].flow_id == flow and visits[0].reason is None
        assert visits[0].detail == {"until": deadline.isoformat()}
        assert (visits[0].entered_at, visits[0].finished_at) == (started, woke)
        assert (visits[1].entered_at, visits[1].finished_at) == (woke, woke)
    page = client.get(f"/v1/flow-runs/{run.id}", headers=store.headers)
    assert page.json()["state"] == "done"
    assert [(s["step"], s["status"]) for s in page.json()["steps"]] == [
        ("wait", "done"), ("end", "done"),
    ]  # fmt: skip


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_bulk_write_the_database_refuses_leaves_nothing_of_its_batch(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
) -> None:
    """Another worker's run for the same key, inserted after the pass read: the pass's
    insert of its own run fails on the one-active-run index, and with the savepoint the
    queue puts around a batch rolled back, neither its run nor its visit is left and the
    transaction goes on."""
    flow = publish(client, store, BROWSE)
    ann = _view(runtime, store, clock)
    flows = triggers.Flows(clock)
    with db.read() as session:
        for row in pending_rows(session, store.store_id):
            flows.process_event(session, row)
        planned = flows.plan(session)
    assert planned is not None and planned.statements
    with db.transaction() as session:
        other = FlowRun(
            id=_FAR, store_id=store.store_id, flow_id=flow, version=1, contact_id=ann, key="A",
            slot="A", state="active", step="wait", seq=1, trigger_at=clock.now, trigger={},
            test=False, started_at=clock.now, updated_at=clock.now,
        )  # fmt: skip
        session.add(other)
    with db.transaction() as session:
        refused = pytest.raises(Exception, match=r"uq_flow_runs_slot|flow_runs\.slot")
        with refused, session.begin_nested():
            for statements in planned.statements:
                statements.execute(session.connection())
        assert session.scalar(select(func.count()).where(FlowRun.flow_id == flow)) == 1
    with db.read() as session:
        assert session.scalars(select(FlowRun.id).where(FlowRun.flow_id == flow)).all() == [
            other.id
        ]
        assert session.scalar(select(func.count()).where(FlowRunStep.flow_id == flow)) == 0
