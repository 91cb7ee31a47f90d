"""Undoing a merge returns everything the merge moved: the scenario a new user tried,
through the real HTTP API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of


def track(client: TestClient, store: StoreFixture, body: dict[str, Any]) -> int:
    response = client.post("/v1/events", json=body, headers=store.headers)
    assert response.status_code == 202, response.text
    contact_id: int = response.json()["contactId"]
    return contact_id


def test_undo_gives_the_order_back_to_the_phone_only_contact(
    client: TestClient, worker: Worker, store: StoreFixture
) -> None:
    headers = store.headers
    phone = "+15550107777"
    a = track(
        client,
        store,
        {
            "name": "Placed Order",
            "contact": {"phone": phone},
            "category": "order",
            "action": "completed",
            "entity": {"id": "A-1", "total": 12},
        },
    )
    worker.drain()
    (order,) = json_of(client.get("/v1/orders", headers=headers))["items"]
    assert order["contactId"] == a
    b = track(client, store, {"name": "Signed Up", "contact": {"email": "uma@example.com"}})
    assert b != a
    both = track(
        client, store, {"name": "Viewed", "contact": {"email": "uma@example.com", "phone": phone}}
    )
    assert both == b
    worker.drain()
    assert json_of(client.get(f"/v1/orders/{order['id']}", headers=headers))["contactId"] == b

    (merge,) = json_of(client.get(f"/v1/contact-merges?contactId={a}", headers=headers))["items"]
    undone = client.post(f"/v1/contact-merges/{merge['id']}/undo", headers=headers)
    assert undone.status_code == 200, undone.text
    worker.drain()

    assert json_of(client.get(f"/v1/orders/{order['id']}", headers=headers))["contactId"] == a
    events = json_of(client.get(f"/v1/contacts/{a}/events", headers=headers))["items"]
    assert [e["name"] for e in events] == ["Placed Order"]
    assert json_of(client.get(f"/v1/contacts/{a}", headers=headers))["id"] == a
