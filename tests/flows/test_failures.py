"""A run the sweep cannot advance ends ``failed`` without holding back the other runs of its
batch, on both engines, even when ending it fails too (its step log's row cannot be
written): the sweep must not fail as a whole, or it would claim that run first again on
every pass and no timer behind it would ever fire."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.flows import timers
from cartwheel.models import FlowRunStep
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import BROWSE, Clock, publish, runs, track


def test_a_run_that_can_neither_advance_nor_end_is_marked_failed_and_holds_back_no_timer(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, BROWSE)
    for email in ("poison@fail.io", "fine@fail.io", "also@fine.io"):
        track(runtime, store.store_id, email, "Viewed Product", at=clock.now,
              properties={"sku": "TSH-1"})  # fmt: skip
    flow_worker.drain()
    poison, *others = runs(db, flow)
    assert [r.state for r in (poison, *others)] == ["active"] * 3
    # The row the poisoned run's wake-up (and then its ending) would write is already there:
    # both writes fail on the step log's primary key.
    with db.transaction() as session:
        session.add(
            FlowRunStep(
                run_id=poison.id, seq=poison.seq, flow_id=flow, step="wait", type="wait",
                status="done", detail={}, entered_at=clock.now, finished_at=clock.now,
            )
        )  # fmt: skip

    clock.advance(hours=2)
    assert timers.sweep(db, clock.now) == 3

    by_id = {r.id: r for r in runs(db, flow)}
    failed = by_id[poison.id]
    assert failed.state == "failed"
    assert failed.reason is not None and failed.reason.startswith("IntegrityError")
    assert failed.wake_at is None and failed.slot is None and failed.finished_at == clock.now
    assert [by_id[r.id].state for r in others] == ["done", "done"]
    # Nothing is due any more: the next sweep claims nothing.
    clock.advance(minutes=1)
    assert timers.sweep(db, clock.now + timedelta(seconds=1)) == 0
