"""A run started by an event keeps the event's id (``flows/stored_trigger.py``); every reader
sees the whole trigger: the run's page and the runs' list (the event as ``GET /v1/events``
shows it, read for a page in one query and only from the store), a ``match`` on
``$trigger.<path>``, a template and a ``send_webhook`` body. Triggers kept whole (a record,
a segment, a run started before) read as they are. On both engines."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.flows import stored_trigger
from cartwheel.models import Event
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Clock, publish, runs, step_log, track

BROWSE: dict[str, Any] = {
    "name": "Browse",
    "trigger": {"event": "Viewed Product", "key": "properties.sku"},
    "start": "wait",
    "steps": {
        "wait": {"type": "wait", "for": {"hours": 1}, "next": "end"},
        "end": {"type": "exit"},
    },
}


def _events(client: TestClient, store: StoreFixture) -> dict[str, dict[str, Any]]:
    """The store's events as the API shows them, by id."""
    items = client.get("/v1/events", headers=store.headers).json()["items"]
    return {item["id"]: item for item in items}


def test_a_run_keeps_its_events_id_and_shows_the_event_whole(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, BROWSE)
    for n, sku in enumerate(("A", "B", "C")):
        track(
            runtime, store.store_id, f"p{n}@trigger.io", "Viewed Product", at=clock.now,
            properties={"sku": sku, "price": 10 + n}, entity={"id": f"p-{sku}"},
        )  # fmt: skip
    flow_worker.drain()
    events = _events(client, store)
    stored = runs(db, flow)
    assert len(stored) == 3
    for run in stored:
        assert set(run.trigger) == {"source", "eventId"}
        assert run.trigger["source"] == "event" and run.trigger["eventId"] in events

    def whole(run_trigger: dict[str, Any]) -> dict[str, Any]:
        event = events[run_trigger["eventId"]]
        return {"source": "event", "event": event, "entity": event["entity"], "record": None}

    page = client.get(f"/v1/flows/{flow}/runs", headers=store.headers)
    assert page.status_code == 200, page.text
    shown = {item["id"]: item["trigger"] for item in page.json()["items"]}
    assert shown == {run.id: whole(run.trigger) for run in stored}
    for run in stored:
        one = client.get(f"/v1/flow-runs/{run.id}", headers=store.headers).json()
        assert one["trigger"] == whole(run.trigger)
        assert one["trigger"]["entity"] == {"id": f"p-{run.key}"}


def test_a_page_of_runs_reads_their_events_in_one_query(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, BROWSE)
    for sku in "ABCDEFGH":
        track(
            runtime, store.store_id, "many@trigger.io", "Viewed Product", at=clock.now,
            properties={"sku": sku},
        )  # fmt: skip
    flow_worker.drain()
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        page = client.get(f"/v1/flows/{flow}/runs?limit=8", headers=store.headers)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert len(items) == 8 and all(item["trigger"]["event"] for item in items)
    assert len([s for s in statements if "FROM events" in s]) == 1


def test_only_the_stores_event_is_read_back(
    db: Database, store: StoreFixture, other_store: StoreFixture, runtime: Runtime, clock: Clock
) -> None:
    """An event id of another store names nothing (a run's own event is always its
    store's: this is the reader's scope, not a case the engine makes)."""
    track(runtime, other_store.store_id, "other@trigger.io", "Viewed Product", at=clock.now)
    with db.read() as session:
        [theirs] = session.scalars(select(Event).where(Event.store_id == other_store.store_id))
        named = stored_trigger.of_event(theirs)
        own = stored_trigger.whole(session, other_store.store_id, named)
        assert own["event"]["id"] == str(theirs.id)
        assert stored_trigger.whole(session, store.store_id, named) == {
            "source": "event",
            "event": None,
            "entity": None,
            "record": None,
        }


def test_triggers_kept_whole_read_as_they_are(db: Database) -> None:
    kept = [
        {"source": "event", "event": {"id": "e-1", "name": "Viewed Product"}, "entity": None},
        {"source": "record", "event": None, "entity": {"id": "o-1"}, "record": {"id": 3}},
        {"source": "segment_entered", "event": None, "entity": None, "segment": {"id": 2}},
        {"source": "event", "eventId": "not a uuid"},
        {},
    ]
    with db.read() as session:
        assert stored_trigger.whole_all(session, 1, [*kept, None]) == [*kept, {}]


def test_a_match_on_the_triggers_properties_reads_its_event(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    """``"match": {"properties.ref": "$trigger.properties.ref"}``: only an order naming the
    ref of the view that started the run ends the wait by its event."""
    flow = publish(
        client,
        store,
        {
            "name": "Matched",
            "trigger": {"event": "Viewed Product", "key": "properties.sku"},
            "start": "check",
            "steps": {
                "check": {
                    "type": "wait_for_event",
                    "event": "Order Placed",
                    "match": {"properties.ref": "$trigger.properties.ref"},
                    "timeout": {"hours": 1},
                    "onEvent": "bought",
                    "onTimeout": "end",
                },
                "bought": {"type": "exit"},
                "end": {"type": "exit"},
            },
        },
    )
    email = "match@trigger.io"
    for sku, ref in (("A", "r-1"), ("B", "r-2")):
        track(
            runtime, store.store_id, email, "Viewed Product", at=clock.now,
            properties={"sku": sku, "ref": ref},
        )  # fmt: skip
    flow_worker.drain()
    clock.advance(minutes=1)
    track(runtime, store.store_id, email, "Order Placed", at=clock.now, properties={"ref": "r-2"})
    flow_worker.drain()
    by_key = {run.key: run for run in runs(db, flow)}
    assert by_key["A"].state == "active" and by_key["A"].step == "check"
    assert by_key["B"].state == "done"
    assert (by_key["B"].id, 2, "bought", "done") in step_log(db, flow)
