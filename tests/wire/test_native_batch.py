"""POST /v1/events/batch: per-event results, partial acceptance, the batch limits."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import Event
from cartwheel.wire.native.schemas import BATCH_EXAMPLES
from tests.conftest import StoreFixture, json_of


def send(client: TestClient, store: StoreFixture, body: Any) -> Response:
    return client.post("/v1/events/batch", json=body, headers=store.headers)


def stored_names(db: Database, store: StoreFixture) -> list[str]:
    with db.read() as session:
        rows = session.scalars(
            select(Event.name).where(Event.store_id == store.store_id).order_by(Event.id)
        )
        return list(rows)


def event(name: str, email: str = "b@example.com", **extra: Any) -> dict[str, Any]:
    return {"name": name, "contact": {"email": email}, **extra}


@pytest.mark.parametrize("name", sorted(BATCH_EXAMPLES))
def test_every_documented_example_is_accepted(
    client: TestClient, db: Database, store: StoreFixture, name: str
) -> None:
    body = copy.deepcopy(BATCH_EXAMPLES[name]["value"])
    response = send(client, store, body)
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["accepted"] == len(body["events"]) and result["rejected"] == 0
    assert [item["index"] for item in result["results"]] == list(range(len(body["events"])))
    assert stored_names(db, store) == [e["name"] for e in body["events"]]


def test_valid_events_are_stored_even_when_others_are_rejected(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    response = send(
        client,
        store,
        {
            "events": [
                event("first"),
                event(""),
                event("third", category="order"),
                {"name": "fourth", "contact": {"id": 2_000_000_000}},
                event("fifth", properties={f"p{i}": i for i in range(401)}),
                event("sixth", email="other@example.com"),
                "not an event",
            ]
        },
    )
    assert response.status_code == 202, response.text
    result = json_of(response)
    assert (result["accepted"], result["rejected"]) == (2, 5)
    items = result["results"]
    assert [item["index"] for item in items] == list(range(7))
    assert [item["accepted"] for item in items] == [True, False, False, False, False, True, False]
    first, sixth = items[0], items[5]
    assert set(first) == {
        "index",
        "accepted",
        "id",
        "contactId",
        "contactUuid",
        "receivedAt",
        "duplicate",
    }
    assert uuid.UUID(first["id"]) and first["contactId"] != sixth["contactId"]
    assert items[1] == {
        "index": 1,
        "accepted": False,
        "status": 422,
        "message": "The name field must have at least 1 character.",
        "errors": {"name": ["The name field must have at least 1 character."]},
    }
    assert items[2]["errors"] == {
        "action": ["The action field is required when category is present."]
    }
    assert items[3] == {
        "index": 3,
        "accepted": False,
        "status": 404,
        "message": "No contact matches the given identifiers.",
    }
    assert (items[4]["status"], items[4]["message"]) == (
        400,
        "Too many properties: 401 (the limit is 400).",
    )
    assert items[6]["errors"] == {"body": ["The request body must be a JSON object."]}
    assert stored_names(db, store) == ["first", "sixth"]


def test_dedup_keys_within_and_across_batches(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    twice = [event("paid", dedupKey="order-9"), event("paid", dedupKey="order-9")]
    items = json_of(send(client, store, {"events": twice}))["results"]
    assert items[0]["id"] == items[1]["id"]
    again = json_of(send(client, store, {"events": [event("paid", dedupKey="order-9")]}))
    assert again["results"][0]["duplicate"] is True
    assert again["results"][0]["id"] == items[0]["id"]
    assert stored_names(db, store) == ["paid"]


def test_one_batch_resolves_one_person_once(client: TestClient, store: StoreFixture) -> None:
    body = {"events": [event(f"e{i}", email="same@example.com") for i in range(5)]}
    items = json_of(send(client, store, body))["results"]
    assert len({item["contactId"] for item in items}) == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "events", "The events field is required."),
        ({"events": []}, "events", "The events field must have at least 1 item."),
        (
            {"events": [event(f"e{i}") for i in range(101)]},
            "events",
            "The events field may not have more than 100 items.",
        ),
        ({"events": {"name": "x"}}, "events", "The events field must be an array."),
        ({"events": [], "extra": 1}, "extra", "The extra field is not a known field."),
        ([event("a")], "body", "The request body must be a JSON object."),
    ],
    ids=["missing", "empty", "too many", "not an array", "unknown field", "not an object"],
)
def test_batch_shape_errors(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    body: Any,
    field: str,
    message: str,
) -> None:
    response = send(client, store, body)
    assert response.status_code == 422
    assert json_of(response) == {"success": False, "message": message, "errors": {field: [message]}}
    assert stored_names(db, store) == []


def test_batch_needs_the_secret_key_and_stays_in_its_store(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    body = {"events": [event("a")]}
    assert client.post("/v1/events/batch", json=body).status_code == 401
    refused = client.post("/v1/events/batch", json=body, headers=store.client_headers())
    assert refused.status_code == 401
    mine = json_of(send(client, store, body))["results"][0]
    theirs = json_of(
        send(client, other_store, {"events": [{"name": "b", "contact": {"id": mine["contactId"]}}]})
    )
    assert theirs["results"][0]["status"] == 404
    assert stored_names(db, other_store) == []


def test_batch_success_carries_rate_limit_headers(client: TestClient, store: StoreFixture) -> None:
    response = send(client, store, {"events": [event("a")]})
    assert int(response.headers["X-RateLimit-Limit"]) >= 1
    assert "X-RateLimit-Remaining" in response.headers
