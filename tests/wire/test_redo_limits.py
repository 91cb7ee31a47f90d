"""Redo: payload limits, authentication, tenancy, rate limiting and the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.models import Contact, Event
from cartwheel.stores.service import set_rate_limit
from cartwheel.wire.redo.schemas import FULL_EXAMPLE, MINIMAL_EXAMPLE, MIXED_EVENTS_EXAMPLE
from tests.conftest import StoreFixture, json_of
from tests.wire.test_redo import (
    assert_accepted,
    assert_all_accepted,
    contact_by_email,
    events_of,
    send,
    send_bulk,
    stored_events,
)

KB = 1024
MB = 1024 * KB
PATHS = ["/stores/{}/events", "/stores/{}/events/bulk"]


def contacts_in(db: Database, store: StoreFixture) -> int:
    with db.read() as session:
        count = session.scalar(select(func.count()).where(Contact.store_id == store.store_id))
    return int(count or 0)


def bodies_for(path: str) -> Any:
    return MINIMAL_EXAMPLE if path.endswith("/events") else {"events": [MINIMAL_EXAMPLE]}


# -- limits --------------------------------------------------------------------------------


def test_400_data_properties_are_accepted_401_are_not(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    at_limit = {**MINIMAL_EXAMPLE, "data": {f"p{i}": i + 1 for i in range(400)}}
    assert_accepted(send(client, store, at_limit))
    over = {**MINIMAL_EXAMPLE, "data": {f"p{i}": i + 1 for i in range(401)}}
    response = send(client, store, over)
    assert response.status_code == 400
    assert json_of(response)["detail"] == "data must not exceed 400 properties (it has 401)."
    assert stored_events(db, store) == 1


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({**MINIMAL_EXAMPLE, "data": {"Note": "x" * (100 * KB + 1)}}, "data.Note"),
        (
            {**MINIMAL_EXAMPLE, "data": {"$extra": {"html": ["ok", "é" * (50 * KB + 1)]}}},
            "data.$extra.html[1]",
        ),
        (
            {
                "eventName": "A",
                "customer": {"email": "a@x.co", "customFields": {"Bio": "b" * (100 * KB + 1)}},
            },
            "customer.customFields.Bio",
        ),
    ],
)
def test_a_string_over_100_kb_is_refused_before_any_work(
    client: TestClient, db: Database, store: StoreFixture, body: dict[str, Any], where: str
) -> None:
    response = send(client, store, body)
    assert response.status_code == 400
    assert json_of(response)["detail"] == f"The string at {where} exceeds 102400 bytes."
    assert contacts_in(db, store) == 0 and stored_events(db, store) == 0


def test_a_string_of_exactly_100_kb_is_accepted(client: TestClient, store: StoreFixture) -> None:
    assert_accepted(send(client, store, {**MINIMAL_EXAMPLE, "data": {"Note": "x" * 100 * KB}}))


def test_a_nul_character_is_refused(client: TestClient, store: StoreFixture) -> None:
    response = send(client, store, {**MINIMAL_EXAMPLE, "data": {"Note": "a\x00b"}})
    assert response.status_code == 400
    assert json_of(response)["detail"] == "The string at data.Note contains a NUL character."


def test_a_body_just_under_5_mb_is_accepted(client: TestClient, store: StoreFixture) -> None:
    blobs = {f"part{i}": "x" * (99 * KB) for i in range(50)}
    body = {**MINIMAL_EXAMPLE, "data": {"$extra": blobs}}
    assert len(json.dumps(body)) < 5 * MB
    assert_accepted(send(client, store, body))


@pytest.mark.parametrize("path", PATHS)
def test_a_body_over_5_mb_is_a_413_before_any_work(
    client: TestClient, db: Database, store: StoreFixture, path: str
) -> None:
    blobs = {f"part{i}": "x" * (99 * KB) for i in range(53)}
    event = {**MINIMAL_EXAMPLE, "data": {"$extra": blobs}}
    body = event if path.endswith("/events") else {"events": [event]}
    content = json.dumps(body).encode()
    assert len(content) > 5 * MB
    response = client.post(
        path.format(store.store_id),
        content=content,
        headers={**store.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert json_of(response) == {
        "type": "about:blank",
        "title": "Payload Too Large",
        "status": 413,
        "detail": "The request body exceeds the 5242880 byte limit.",
    }
    assert contacts_in(db, store) == 0


def test_bulk_takes_100_events_not_101(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    events = [
        {"eventName": "Bulk", "customer": {"email": f"b{i}@example.com"}, "uniqueId": f"u{i}"}
        for i in range(101)
    ]
    response = send_bulk(client, store, {"events": events})
    assert response.status_code == 400
    assert json_of(response)["detail"] == "events must contain at most 100 events (it has 101)."
    assert contacts_in(db, store) == 0
    assert_all_accepted(send_bulk(client, store, {"events": events[:100]}), 100)
    assert stored_events(db, store) == 100 and contacts_in(db, store) == 100


def test_bulk_limits_are_per_event(client: TestClient, db: Database, store: StoreFixture) -> None:
    too_many = {**MINIMAL_EXAMPLE, "data": {f"p{i}": "v" for i in range(401)}}
    response = send_bulk(client, store, {"events": [too_many, MINIMAL_EXAMPLE]})
    assert response.status_code == 202
    assert response.json()["results"] == [
        {
            "index": 0,
            "status": "rejected",
            "error": "data must not exceed 400 properties (it has 401).",
        },
        {"index": 1, "status": "accepted"},
    ]
    assert stored_events(db, store) == 1


# -- authentication and tenancy ------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_missing_or_wrong_key_is_a_401_problem(
    client: TestClient, store: StoreFixture, path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer cw_sk_wrong"}, store.client_headers()):
        response = client.post(path.format(store.store_id), json=bodies_for(path), headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        # Not one of the statuses the document declares: its `default`, problem+json.
        assert response.headers["content-type"] == "application/problem+json"
        assert json_of(response) == {
            "type": "about:blank",
            "title": "Unauthorized",
            "status": 401,
            "detail": "Unauthenticated.",
        }


@pytest.mark.parametrize("path", PATHS)
def test_another_stores_id_is_a_404_like_a_missing_store(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
    path: str,
) -> None:
    not_found = {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Store not found.",
    }
    for store_id in (other_store.store_id, 999_999_999, "abc", "0001", f"{store.store_id}x"):
        response = client.post(path.format(store_id), json=bodies_for(path), headers=store.headers)
        assert response.status_code == 404, store_id
        assert response.headers["content-type"] == "application/json"
        assert json_of(response) == not_found
    assert contacts_in(db, store) == 0 and contacts_in(db, other_store) == 0


def test_another_stores_contact_id_does_not_resolve(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    assert_accepted(send(client, store, {"eventName": "Mine", "customer": {"email": "a@x.co"}}))
    mine = contact_by_email(client, store, "a@x.co")
    for ref in (mine["uuid"], str(mine["id"])):
        # Alone, the foreign id matches nothing in store B.
        alone = send(client, other_store, {"eventName": "Probe", "customer": {"id": ref}})
        assert alone.status_code == 400
        assert json_of(alone)["errors"][0]["field"] == "customer.id"
        # With an email, store B makes its own customer.
        body = {"eventName": "Theirs", "customer": {"id": ref, "email": "b@x.co"}}
        assert_accepted(send(client, other_store, body))
    theirs = contact_by_email(client, other_store, "b@x.co")
    assert theirs["id"] != mine["id"]
    assert [e["name"] for e in events_of(client, other_store, theirs["id"])] == ["Theirs"] * 2
    assert [e["name"] for e in events_of(client, store, mine["id"])] == ["Mine"]


# -- rate limiting -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_over_the_stores_rate_limit_is_a_429_problem(
    client: TestClient, db: Database, store: StoreFixture, path: str
) -> None:
    # Before the first request: verified keys (and their limits) are cached.
    with db.transaction() as session:
        set_rate_limit(session, store.store_id, 1)
    url = path.format(store.store_id)
    assert client.post(url, json=bodies_for(path), headers=store.headers).status_code == 202
    response = client.post(url, json=bodies_for(path), headers=store.headers)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert json_of(response) == {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Rate limit exceeded.",
    }
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == "1"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0
    assert stored_events(db, store) == 1


# -- the OpenAPI document ------------------------------------------------------------------


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def test_openapi_documents_both_endpoints_with_the_documents_examples(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    single = document["paths"]["/stores/{storeId}/events"]["post"]
    bulk = document["paths"]["/stores/{storeId}/events/bulk"]["post"]
    assert single["summary"] == "Create custom event"
    assert bulk["summary"] == "Bulk create custom events"

    content = single["requestBody"]["content"]["application/json"]
    assert set(content["examples"]) == {"full_example", "medium_example", "minimal"}
    assert content["examples"]["full_example"]["value"] == FULL_EXAMPLE
    schema = _resolve(document, content["schema"]["$ref"])
    assert schema["required"] == ["eventName", "customer"]
    customer = _resolve(document, schema["properties"]["customer"]["$ref"])
    assert customer["additionalProperties"] is False
    assert all(p.get("description") for p in customer["properties"].values())

    bulk_content = bulk["requestBody"]["content"]["application/json"]
    assert bulk_content["examples"]["mixed_events"]["value"] == MIXED_EVENTS_EXAMPLE
    bulk_schema = _resolve(document, bulk_content["schema"]["$ref"])
    events = bulk_schema["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (1, 100)

    for operation in (single, bulk):
        assert set(operation["responses"]) >= {"202", "400", "401", "404", "413", "429"}
        responses = operation["responses"]
        # The content types of Redo's document: application/json for 400, 404 and 429,
        # application/problem+json for its `default` response.
        for status in ("400", "404", "429"):
            assert set(responses[status]["content"]) == {"application/json"}, status
        assert set(responses["default"]["content"]) == {"application/problem+json"}
        problem = responses["400"]["content"]["application/json"]
        assert "detail" in _resolve(document, problem["schema"]["$ref"])["properties"]
    results = bulk["responses"]["202"]["content"]["application/json"]["schema"]["$ref"]
    assert "results" in _resolve(document, results)["properties"]


def test_stored_events_keep_their_order_in_the_log(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    assert_all_accepted(
        send_bulk(client, store, MIXED_EVENTS_EXAMPLE), len(MIXED_EVENTS_EXAMPLE["events"])
    )
    with db.read() as session:
        names = session.scalars(
            select(Event.name).where(Event.store_id == store.store_id).order_by(Event.id)
        )
        assert list(names) == ["User Registered", "Purchase Completed"]
