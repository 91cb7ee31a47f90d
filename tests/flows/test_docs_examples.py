"""The two complete examples of docs/flows.md, read from the document and run as written
(only the template and list ids replaced by the store's own), on both engines with the
clock injected, through the real messages channel to the loopback SMTP server."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Channel, Clock, publish, runs, template, track

DOC = Path(__file__).resolve().parents[2] / "docs" / "flows.md"


def examples() -> dict[str, dict[str, Any]]:
    """Each ``## Example: <title>`` section's JSON block, parsed, by title."""
    found: dict[str, dict[str, Any]] = {}
    for section in re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE):
        title, _, rest = section.partition("\n")
        if not title.startswith("Example: "):
            continue
        block = re.search(r"```json\n(.*?)```", rest, flags=re.DOTALL)
        assert block is not None, title
        found[title.removeprefix("Example: ")] = json.loads(block.group(1))
    return found


def with_ids(definition: dict[str, Any], ids: dict[tuple[str, int], int]) -> dict[str, Any]:
    """The definition with the document's template and list ids replaced by the store's."""
    steps = {}
    for name, step in definition["steps"].items():
        step = dict(step)
        for field in ("template", "list"):
            if field in step:
                step[field] = ids[(field, step[field])]
        steps[name] = step
    return {**definition, "steps": steps}


def test_the_document_has_its_two_complete_examples() -> None:
    assert set(examples()) == {
        "order confirmation (the ready flow)",
        "welcome series with a goal",
    }


def test_the_order_confirmation_example_is_the_ready_flow_and_runs(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
) -> None:
    confirmation = template(
        client, store, "Order confirmed, {{ contact.email }}", topic="transactional"
    )
    written = examples()["order confirmation (the ready flow)"]
    definition = with_ids(written, {("template", 5): confirmation})
    ready = client.post(
        "/v1/flows/ready/order-confirmation", json={"template": 5}, headers=store.headers
    )
    assert ready.status_code == 422  # the document's id is not this store's template
    ready = client.post(
        "/v1/flows/ready/order-confirmation", json={"template": confirmation}, headers=store.headers
    )
    assert ready.json()["definition"] == definition  # the document shows the ready flow

    flow = publish(client, store, definition)
    client.delete(f"/v1/flows/{ready.json()['id']}", headers=store.headers)
    answer = client.post(
        "/v1/events",
        json={
            "name": "Order Paid",
            "contact": {"email": "doc@orders.io"},
            "category": "order",
            "action": "paid",
            "entity": {"id": "doc-1", "total": 20},
        },
        headers=store.headers,
    )
    assert answer.status_code == 202, answer.text
    flow_worker.drain()
    flow_worker.drain()
    [run] = runs(db, flow)
    assert (run.state, run.key) == ("done", "doc-1")
    assert [(r.status, r.subject) for r in channel.sent_to(run.contact_id)] == [
        ("sent", "Order confirmed, doc@orders.io")
    ]
    assert len(channel.emails("doc@orders.io")) == 1


@pytest.fixture
def monday_morning() -> Clock:
    """07:00 in Berlin (CET, UTC+1) on a winter Monday."""
    return Clock(datetime(2027, 1, 4, 6, 0, tzinfo=UTC))


def test_the_welcome_series_example_runs_both_ways(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    settings: Settings,
    store: StoreFixture,
    monday_morning: Clock,
    channel: Channel,
) -> None:
    """Two subscribed sign-ups: both get the hello at once and wait until 09:00 Berlin;
    Uma orders within three days (thanked: put on the list), Vic does not (nudged by
    email); both are tagged. A third, unsubscribed, never enters. The goal counts Uma."""
    clock = monday_morning
    worker = Worker(db, settings, clock=clock)
    hello = template(client, store, "Welcome, {{ contact.email }}")
    nudge = template(client, store, "Still looking, {{ contact.email }}?")
    buyers = client.post("/v1/subscriber-lists", json={"name": "Buyers"}, headers=store.headers)
    written = examples()["welcome series with a goal"]
    ids = {("template", 11): hello, ("template", 12): nudge, ("list", 4): buyers.json()["id"]}
    flow = publish(client, store, with_ids(written, ids))

    def signup(email: str, subscribed: bool = True) -> int:
        fields = {"subscribed": subscribed}
        return track(runtime, store.store_id, email, "Signed Up", at=clock.now, fields=fields)

    uma, vic, wes = signup("uma@doc.io"), signup("vic@doc.io"), signup("wes@doc.io", False)
    worker.drain()
    assert {r.contact_id for r in runs(db, flow)} == {uma, vic}
    for contact_id, email in ((uma, "uma@doc.io"), (vic, "vic@doc.io")):
        assert [r.subject for r in channel.sent_to(contact_id)] == [f"Welcome, {email}"]
    by_contact = {r.contact_id: r for r in runs(db, flow)}
    assert by_contact[uma].wake_at == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # 09:00 CET

    clock.now = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    worker.drain()
    clock.advance(days=1)
    track(runtime, store.store_id, "uma@doc.io", "Order Placed", at=clock.now)
    worker.drain()
    clock.advance(days=2, minutes=1)  # Vic's three days are over
    worker.drain()

    by_contact = {r.contact_id: r for r in runs(db, flow)}
    assert by_contact[uma].state == by_contact[vic].state == "done"
    assert [r.subject for r in channel.sent_to(uma)] == ["Welcome, uma@doc.io"]
    assert [r.subject for r in channel.sent_to(vic)] == [
        "Welcome, vic@doc.io",
        "Still looking, vic@doc.io?",
    ]
    assert [m.message["Subject"] for m in channel.emails("vic@doc.io")] == [
        "Welcome, vic@doc.io",
        "Still looking, vic@doc.io?",
    ]
    assert channel.sent_to(wes) == [] and channel.emails("wes@doc.io") == []
    shown = {c: client.get(f"/v1/contacts/{c}", headers=store.headers).json() for c in (uma, vic)}
    assert buyers.json()["id"] in shown[uma]["subscriberLists"]
    assert buyers.json()["id"] not in shown[vic]["subscriberLists"]
    assert all(s["customFields"]["welcomed"] is True for s in shown.values())
    stats = client.get(f"/v1/flows/{flow}/stats", headers=store.headers).json()
    assert stats["conversions"]["runs"] == 2 and stats["conversions"]["converted"] == 1
