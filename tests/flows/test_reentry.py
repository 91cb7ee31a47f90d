"""Re-entry counted per contact (``"reentry": {"after": …, "per": "contact"}``): a
browse-abandonment flow keyed by product starts one run per person per cool-down, whatever
product they look at; per key (the default), each product is its own run. On both engines,
with the clock injected."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import FlowRun
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of
from tests.flows.helpers import Clock, ids_in, publish, statements
from tests.segments.helpers import track


def browse_abandonment(reentry: Any) -> dict[str, Any]:
    return {
        "name": "Browse abandonment",
        "trigger": {"event": "Viewed Product", "key": "properties.sku"},
        "entry": {"reentry": reentry},
        "exitOn": [{"event": "Order Placed", "since": "trigger"}],
        "start": "wait",
        "steps": {
            "wait": {"type": "wait", "for": {"hours": 1}, "next": "end"},
            "end": {"type": "exit"},
        },
    }


def keys(db: Database, flow_id: int, contact_id: int) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(FlowRun.key)
                .where(FlowRun.flow_id == flow_id, FlowRun.contact_id == contact_id)
                .order_by(FlowRun.id)
            )
        )


def view(runtime: Runtime, store: StoreFixture, email: str, sku: str, clock: Clock) -> int:
    return track(
        runtime, store.store_id, email, "Viewed Product", at=clock.now, properties={"sku": sku}
    )


def test_per_contact_one_run_per_cool_down_whatever_the_key(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, browse_abandonment({"after": {"days": 30}, "per": "contact"}))
    ann = view(runtime, store, "ann@browse.io", "A", clock)
    view(runtime, store, "ann@browse.io", "B", clock)  # the same pass as A
    flow_worker.drain()
    clock.advance(hours=2)  # A's run has ended: only the cool-down holds B back
    view(runtime, store, "ann@browse.io", "C", clock)
    flow_worker.drain()
    assert keys(db, flow, ann) == ["A"]
    bob = view(runtime, store, "bob@browse.io", "B", clock)  # another person is not held
    flow_worker.drain()
    assert keys(db, flow, bob) == ["B"]
    clock.advance(days=30, minutes=1)
    view(runtime, store, "ann@browse.io", "D", clock)
    flow_worker.drain()
    assert keys(db, flow, ann) == ["A", "D"]


def test_per_key_by_default_each_product_is_its_own_run(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, browse_abandonment({"after": {"days": 30}}))
    ann = view(runtime, store, "ann@browse.io", "A", clock)
    view(runtime, store, "ann@browse.io", "B", clock)
    flow_worker.drain()
    clock.advance(hours=2)
    view(runtime, store, "ann@browse.io", "A", clock)  # A again, within its cool-down
    view(runtime, store, "ann@browse.io", "C", clock)
    flow_worker.drain()
    assert keys(db, flow, ann) == ["A", "B", "C"]


def test_per_contact_holds_when_events_come_one_pass_at_a_time(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """The same rule when each event is its own pass (no batch read-ahead to lean on)."""
    flow = publish(client, store, browse_abandonment({"after": {"days": 1}, "per": "contact"}))
    ann = 0
    for sku in ("A", "B", "C"):
        ann = view(runtime, store, "ann@browse.io", sku, clock)
        flow_worker.drain()
        clock.advance(hours=3)
    clock.advance(hours=16)
    view(runtime, store, "ann@browse.io", "E", clock)
    flow_worker.drain()
    assert keys(db, flow, ann) == ["A", "E"]


@pytest.mark.parametrize(
    ("reentry", "path"),
    [
        ({"after": {"days": 30}, "per": "household"}, "entry.reentry.per"),
        ({"after": {"days": 30}, "per": ["contact"]}, "entry.reentry.per"),
        ({"per": "contact"}, "entry.reentry"),
        ({"after": {"days": 30}, "per": "contact", "extra": 1}, "entry.reentry"),
    ],
)
def test_a_wrong_reentry_is_a_422_naming_its_path(
    client: TestClient, store: StoreFixture, reentry: Any, path: str
) -> None:
    answer = client.post("/v1/flows", json=browse_abandonment(reentry), headers=store.headers)
    assert answer.status_code == 422, answer.text
    assert path in json_of(answer)["errors"], answer.text


#: How a pass reads the last starts (``triggers._starts_query``).
_LAST_STARTS = "max(flow_runs.started_at)"


def test_a_run_its_exit_ends_in_the_same_pass_still_counts_for_reentry(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """The exit ends the run before the next view of its product, in the same pass: the
    view then meets no active run, and ``never`` must know the product's run started."""
    flow = publish(client, store, browse_abandonment("never"))
    ann = view(runtime, store, "ann@browse.io", "A", clock)
    flow_worker.drain()
    clock.advance(minutes=5)
    track(runtime, store.store_id, "ann@browse.io", "Order Placed", at=clock.now)
    clock.advance(minutes=1)
    view(runtime, store, "ann@browse.io", "A", clock)
    flow_worker.drain()
    with db.read() as session:
        states = list(
            session.scalars(
                select(FlowRun.state).where(FlowRun.flow_id == flow).order_by(FlowRun.id)
            )
        )
    assert states == ["exited"]
    assert keys(db, flow, ann) == ["A"]


def test_only_contacts_whose_starts_may_enter_have_their_last_starts_read(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """Ann's view of A meets A's active run, which nothing in the pass moves: it only
    refreshes that run, so ``never`` is not asked about her; Bob's first view is."""
    flow = publish(client, store, browse_abandonment("never"))
    ann = view(runtime, store, "ann@browse.io", "A", clock)
    flow_worker.drain()
    clock.advance(minutes=5)
    view(runtime, store, "ann@browse.io", "A", clock)
    bob = view(runtime, store, "bob@browse.io", "A", clock)
    with statements(db, parameters=True) as sent:
        flow_worker.drain()
    asked = [ids_in(params) for s, params in sent if _LAST_STARTS in s]
    assert asked == [[bob]]
    assert keys(db, flow, ann) == ["A"] and keys(db, flow, bob) == ["A"]
    with db.read() as session:
        refreshed = session.scalars(
            select(FlowRun.trigger_at).where(FlowRun.flow_id == flow, FlowRun.contact_id == ann)
        ).one()
    assert refreshed == clock.now
