"""A lifecycle event reads back with the record it describes."""

from fastapi.testclient import TestClient

from tests.conftest import StoreFixture


def test_contact_events_show_the_lifecycle_entity(client: TestClient, store: StoreFixture) -> None:
    body = {
        "name": "order_completed",
        "category": "order",
        "action": "completed",
        "contact": {"email": "ent@example.com"},
        "entity": {"id": "order_1", "total": 59.98, "currency": "USD"},
        "value": 59.98,
        "currency": "USD",
    }
    accepted = client.post("/v1/events", json=body, headers=store.headers)
    assert accepted.status_code == 202, accepted.text
    contact_id = accepted.json()["contactId"]
    events = client.get(f"/v1/contacts/{contact_id}/events", headers=store.headers).json()
    (event,) = events["items"]
    assert (event["category"], event["action"]) == ("order", "completed")
    assert event["entity"] == {"id": "order_1", "total": 59.98, "currency": "USD"}
    assert (event["value"], event["currency"]) == (59.98, "USD")
