"""A worker pass's new runs: started as plain objects, given ids when the pass settles them
(twice here: a run started in the pass meets a later event of its contact in the same
pass), inserted once at the end as advancing them left them: each with an id of its own after
the highest, and its step row. On both engines, with the clock injected."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import FlowRun, QueueFailure
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Clock, publish, step_log
from tests.segments.helpers import track

BROWSE: dict[str, Any] = {
    "name": "Browse abandonment",
    "trigger": {"event": "Viewed Product", "key": "properties.sku"},
    "exitOn": [{"event": "Order Placed", "since": "trigger"}],
    "start": "wait",
    "steps": {
        "wait": {"type": "wait", "for": {"hours": 1}, "next": "end"},
        "end": {"type": "exit"},
    },
}


def test_a_pass_inserts_its_new_runs_once_each_with_their_own_ids(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, BROWSE)

    def view(email: str, sku: str) -> int:
        properties = {"sku": sku}
        return track(
            runtime, store.store_id, email, "Viewed Product", at=clock.now, properties=properties
        )

    # A run from an earlier pass: the pass's ids must come after it.
    view("old@pass.io", "Z")
    flow_worker.drain()
    # One pass: Ann's second and third views each meet her runs started before them in
    # the pass (settled then, so ids are drawn twice); Bob's order ends his run at once.
    ann = view("ann@pass.io", "A")
    view("ann@pass.io", "B")
    view("ann@pass.io", "C")
    bob = view("bob@pass.io", "A")
    track(runtime, store.store_id, "bob@pass.io", "Order Placed", at=clock.now)
    flow_worker.drain()
    with db.read() as session:
        runs = list(
            session.execute(
                select(FlowRun.id, FlowRun.contact_id, FlowRun.key, FlowRun.state, FlowRun.step)
                .where(FlowRun.flow_id == flow)
                .order_by(FlowRun.id)
            )
        )
        failures = session.scalars(
            select(QueueFailure).where(QueueFailure.store_id == store.store_id)
        ).all()
    assert failures == []
    [old, *new] = runs
    assert [(r.contact_id, r.key, r.state) for r in new] == [
        (ann, "A", "active"),
        (ann, "B", "active"),
        (ann, "C", "active"),
        (bob, "A", "exited"),
    ]
    assert all(r.id > old.id for r in new)
    assert len({r.id for r in runs}) == len(runs)
    # Each run has its one visit, in the state the pass left it.
    steps = {(run_id, seq): status for run_id, seq, _, status in step_log(db, flow)}
    assert steps == {
        (old.id, 1): "waiting",
        **{(r.id, 1): "waiting" if r.state == "active" else "exited" for r in new},
    }
