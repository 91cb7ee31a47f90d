"""Bookings: recording a booked session and listing them by start, event and page."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.bookings.schemas import BOOKING_REQUEST_EXAMPLE
from cartwheel.db import Database
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import assert_pagination, error, outbox

START = 1587936600


def book(client: TestClient, store: StoreFixture, **fields: Any) -> dict[str, Any]:
    body = {"eventId": 1, "email": "guest@example.com", "start": START, "end": START + 1800}
    response = client.post("/v1/bookings", json={**body, **fields}, headers=store.headers)
    assert response.status_code == 201, response.text
    booking: dict[str, Any] = json_of(response)
    return booking


def test_document_example_records_a_booking(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    response = client.post("/v1/bookings", json=BOOKING_REQUEST_EXAMPLE, headers=store.headers)
    assert response.status_code == 201
    body = json_of(response)
    assert {**body, "id": 206, "contactId": 41} == {
        **BOOKING_REQUEST_EXAMPLE,
        "id": 206,
        "contactId": 41,
    }
    contact = json_of(client.get("/v1/contacts?email=jane@doe.com", headers=store.headers))
    assert (contact["id"], contact["name"], contact["source"]) == (
        body["contactId"],
        "Jane Doe",
        "booking",
    )
    assert outbox(db, store.store_id, "booking_created") == [body]
    assert outbox(db, store.store_id, "contact_updated") == [contact]
    listed = json_of(client.get("/v1/bookings", headers=store.headers))
    assert listed["items"] == [body]


def test_optional_parts_are_null(client: TestClient, store: StoreFixture) -> None:
    body = book(client, store)
    assert (body["name"], body["eventData"], body["operator"], body["service"]) == (
        None,
        None,
        None,
        None,
    )
    assert body["formAnswers"] == []


def test_list_filters_by_start_and_event(client: TestClient, store: StoreFixture) -> None:
    a = book(client, store, eventId=7, start=START + 600, end=START + 900)["id"]
    b = book(client, store, eventId=8, start=START, end=START + 300)["id"]
    c = book(client, store, eventId=7, start=START + 1200, end=START + 1500)["id"]

    def listed(query: str) -> list[int]:
        body = json_of(client.get(f"/v1/bookings?{query}", headers=store.headers))
        return [item["id"] for item in body["items"]]

    assert listed("") == [b, a, c]  # by start
    assert listed(f"from={START + 600}") == [a, c]
    assert listed(f"to={START + 600}") == [b, a]
    assert listed(f"from={START + 600}&to={START + 600}") == [a]
    assert listed("eventId=7") == [a, c]
    assert listed(f"eventId=7&to={START + 1199}") == [a]
    assert listed("eventId=9") == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=abc", "The from parameter must be an integer."),
        ("to=1e9", "The to parameter must be an integer."),
        ("eventId=x", "The eventId parameter must be an integer."),
        ("eventId=-1", "The eventId parameter must be at least 0."),
    ],
)
def test_bad_filters_are_400(
    client: TestClient, store: StoreFixture, query: str, message: str
) -> None:
    assert error(client.get(f"/v1/bookings?{query}", headers=store.headers), 400) == message


def test_list_is_paginated(client: TestClient, store: StoreFixture) -> None:
    ids = [book(client, store, start=START + i, end=START + i)["id"] for i in range(3)]
    assert_pagination(client, store, "/v1/bookings", ids)


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"eventId": None}, "eventId", "The eventId field must be an integer."),
        ({"eventId": 0}, "eventId", "The eventId field must be at least 1."),
        ({"email": "nope"}, "email", "The email field must be a valid email address."),
        ({"start": "1587936600"}, "start", "The start field must be an integer."),
        ({"end": -1}, "end", "The end field must be at least 0."),
        ({"end": START - 1}, "end", "The end field must not be before the start."),
        ({"eventData": []}, "eventData", "The eventData field must be an object."),
        ({"operator": {"id": "x"}}, "operator.id", "The operator.id field must be an integer."),
        (
            {"formAnswers": [{"name": "q"}]},
            "formAnswers.0.value",
            "The formAnswers.0.value field is required.",
        ),
    ],
)
def test_validation_messages(
    client: TestClient, store: StoreFixture, patch: dict[str, Any], field: str, message: str
) -> None:
    body = {"eventId": 1, "email": "v@example.com", "start": START, "end": START, **patch}
    response = client.post("/v1/bookings", json=body, headers=store.headers)
    assert error(response, 422) == message
    assert json_of(response)["errors"] == {field: [message]}


def test_required_fields(client: TestClient, store: StoreFixture) -> None:
    response = client.post("/v1/bookings", json={}, headers=store.headers)
    assert json_of(response)["errors"] == {
        "eventId": ["The eventId field is required."],
        "email": ["The email field is required."],
        "start": ["The start field is required."],
        "end": ["The end field is required."],
    }


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/bookings"), ("POST", "/v1/bookings")])
def test_secret_key_is_required(
    client: TestClient, store: StoreFixture, method: str, path: str
) -> None:
    assert error(client.request(method, path), 401) == "Unauthenticated."
    refused = client.request(method, path, json={}, headers=store.client_headers())
    assert error(refused, 401) == "Unauthenticated."


def test_another_store_sees_nothing(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    mine = book(client, store, eventId=5)
    theirs = json_of(client.get("/v1/bookings?eventId=5", headers=other_store.headers))
    assert theirs["items"] == [] and theirs["totalCount"] == 0
    other = book(client, other_store, eventId=5)
    assert other["contactId"] != mine["contactId"]
    assert json_of(client.get("/v1/bookings", headers=store.headers))["items"] == [mine]
