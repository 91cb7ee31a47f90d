"""Subscriber lists: create, list with counts, update, delete, and their contacts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.contacts import repository
from cartwheel.db import Database
from cartwheel.lists.schemas import LIST_REQUEST_EXAMPLE
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import assert_pagination, create_contact, error, outbox


def create_list(client: TestClient, store: StoreFixture, name: str = "News") -> dict[str, Any]:
    response = client.post("/v1/subscriber-lists", json={"name": name}, headers=store.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = json_of(response)
    return created


def add(client: TestClient, store: StoreFixture, list_id: int, *contact_ids: int) -> Any:
    return client.post(
        f"/v1/subscriber-lists/{list_id}/contacts",
        json={"contactIds": list(contact_ids)},
        headers=store.headers,
    )


def test_document_example_creates_and_updates_a_list(
    client: TestClient, store: StoreFixture
) -> None:
    response = client.post("/v1/subscriber-lists", json=LIST_REQUEST_EXAMPLE, headers=store.headers)
    assert response.status_code == 201
    body = json_of(response)
    assert set(body) == {"id", "name", "created", "subscribers", "opens", "clicks"}
    assert (body["name"], body["subscribers"], body["opens"], body["clicks"]) == (
        "New List",
        0,
        0.0,
        0.0,
    )
    assert isinstance(body["created"], int)
    path = f"/v1/subscriber-lists/{body['id']}"
    renamed = json_of(client.put(path, json={"name": "My list"}, headers=store.headers))
    assert renamed == {**body, "name": "My list"}
    assert json_of(client.get(path, headers=store.headers)) == renamed


def test_contacts_join_and_leave_with_counts(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    news = create_list(client, store)
    ann = create_contact(client, store, email="ann@example.com")
    bob = create_contact(client, store, email="bob@example.com")
    added = add(client, store, news["id"], ann["id"], bob["id"])
    assert added.status_code == 200 and json_of(added)["subscribers"] == 2
    again = add(client, store, news["id"], ann["id"])  # already on it: nothing changes
    assert json_of(again)["subscribers"] == 2
    listed = json_of(client.get("/v1/subscriber-lists", headers=store.headers))
    assert [(item["id"], item["subscribers"]) for item in listed["items"]] == [(news["id"], 2)]
    shown = json_of(client.get(f"/v1/contacts/{ann['id']}", headers=store.headers))
    assert shown["subscriberLists"] == [news["id"]]
    assert outbox(db, store.store_id, "contact_updated")[-2:] == [
        shown,
        json_of(client.get(f"/v1/contacts/{bob['id']}", headers=store.headers)),
    ]
    members = json_of(
        client.get(f"/v1/subscriber-lists/{news['id']}/contacts", headers=store.headers)
    )
    assert [c["id"] for c in members["items"]] == [ann["id"], bob["id"]]
    removed = client.delete(
        f"/v1/subscriber-lists/{news['id']}/contacts/{ann['id']}", headers=store.headers
    )
    assert removed.status_code == 204
    assert (
        json_of(client.get(f"/v1/contacts/{ann['id']}", headers=store.headers))["subscriberLists"]
        == []
    )
    twice = client.delete(
        f"/v1/subscriber-lists/{news['id']}/contacts/{ann['id']}", headers=store.headers
    )
    assert error(twice, 404) == "The contact is not on this subscriber list."
    # A deleted contact no longer counts.
    client.delete(f"/v1/contacts/{bob['id']}", headers=store.headers)
    assert (
        json_of(client.get(f"/v1/subscriber-lists/{news['id']}", headers=store.headers))[
            "subscribers"
        ]
        == 0
    )


def test_unknown_contacts_are_refused_whole(client: TestClient, store: StoreFixture) -> None:
    news = create_list(client, store)
    ann = create_contact(client, store, email="ann@example.com")
    response = add(client, store, news["id"], ann["id"], 999999)
    assert error(response, 422) == "The contact 999999 does not exist."
    assert json_of(response)["errors"] == {"contactIds": ["The contact 999999 does not exist."]}
    assert (
        json_of(client.get(f"/v1/subscriber-lists/{news['id']}", headers=store.headers))[
            "subscribers"
        ]
        == 0
    )


def test_delete_keeps_the_contacts(client: TestClient, store: StoreFixture) -> None:
    news = create_list(client, store)
    ann = create_contact(client, store, email="ann@example.com", subscriberLists=[news["id"]])
    path = f"/v1/subscriber-lists/{news['id']}"
    response = client.delete(path, headers=store.headers)
    assert response.status_code == 204 and response.content == b""
    assert error(client.get(path, headers=store.headers), 404) == "Subscriber list not found."
    assert error(client.delete(path, headers=store.headers), 404) == "Subscriber list not found."
    shown = json_of(client.get(f"/v1/contacts/{ann['id']}", headers=store.headers))
    assert shown["subscriberLists"] == []


def test_missing_lists_and_contacts_are_404(client: TestClient, store: StoreFixture) -> None:
    news = create_list(client, store)
    for path in ("/v1/subscriber-lists/999999", "/v1/subscriber-lists/2147483648"):
        assert error(client.get(path, headers=store.headers), 404) == "Subscriber list not found."
    contacts = client.get("/v1/subscriber-lists/999999/contacts", headers=store.headers)
    assert error(contacts, 404) == "Subscriber list not found."
    assert error(add(client, store, 999999, 1), 404) == "Subscriber list not found."
    remove = client.delete(
        f"/v1/subscriber-lists/{news['id']}/contacts/999999", headers=store.headers
    )
    assert error(remove, 404) == "Contact not found."


def test_lists_and_their_contacts_are_paginated(client: TestClient, store: StoreFixture) -> None:
    ids = [create_list(client, store, f"L{i}")["id"] for i in range(3)]
    assert_pagination(client, store, "/v1/subscriber-lists", ids)
    contacts = [create_contact(client, store, email=f"s{i}@example.com")["id"] for i in range(3)]
    add(client, store, ids[0], *contacts)
    assert_pagination(client, store, f"/v1/subscriber-lists/{ids[0]}/contacts", contacts)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "name", "The name field is required."),
        ({"name": ""}, "name", "The name field may not be empty."),
        ({"name": 1}, "name", "The name field must be a string."),
        ({"name": "x" * 201}, "name", "The name field may not be greater than 200 characters."),
    ],
)
def test_list_validation_messages(
    client: TestClient, store: StoreFixture, body: dict[str, Any], field: str, message: str
) -> None:
    created = client.post("/v1/subscriber-lists", json=body, headers=store.headers)
    assert error(created, 422) == message
    assert json_of(created)["errors"] == {field: [message]}
    news = create_list(client, store)
    updated = client.put(f"/v1/subscriber-lists/{news['id']}", json=body, headers=store.headers)
    assert error(updated, 422) == message


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "contactIds", "The contactIds field is required."),
        ({"contactIds": []}, "contactIds", "The contactIds field must have at least 1 item(s)."),
        (
            {"contactIds": list(range(1, 102))},
            "contactIds",
            "The contactIds field may not have more than 100 items.",
        ),
        ({"contactIds": ["1"]}, "contactIds.0", "The contactIds.0 field must be an integer."),
    ],
)
def test_add_validation_messages(
    client: TestClient, store: StoreFixture, body: dict[str, Any], field: str, message: str
) -> None:
    news = create_list(client, store)
    response = client.post(
        f"/v1/subscriber-lists/{news['id']}/contacts", json=body, headers=store.headers
    )
    assert error(response, 422) == message
    assert json_of(response)["errors"] == {field: [message]}


OPERATIONS = [
    ("GET", "/v1/subscriber-lists"),
    ("POST", "/v1/subscriber-lists"),
    ("GET", "/v1/subscriber-lists/1"),
    ("PUT", "/v1/subscriber-lists/1"),
    ("DELETE", "/v1/subscriber-lists/1"),
    ("GET", "/v1/subscriber-lists/1/contacts"),
    ("POST", "/v1/subscriber-lists/1/contacts"),
    ("DELETE", "/v1/subscriber-lists/1/contacts/1"),
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_secret_key_is_required(
    client: TestClient, store: StoreFixture, method: str, path: str
) -> None:
    assert error(client.request(method, path), 401) == "Unauthenticated."
    refused = client.request(method, path, json={}, headers=store.client_headers())
    assert error(refused, 401) == "Unauthenticated."


def test_another_store_sees_changes_and_detects_nothing(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    news = create_list(client, store)
    ann = create_contact(client, store, email="ann@example.com", subscriberLists=[news["id"]])
    theirs = other_store.headers
    path = f"/v1/subscriber-lists/{news['id']}"
    missing = "Subscriber list not found."
    assert error(client.get(path, headers=theirs), 404) == missing
    assert error(client.put(path, json={"name": "X"}, headers=theirs), 404) == missing
    assert error(client.delete(path, headers=theirs), 404) == missing
    assert error(client.get(f"{path}/contacts", headers=theirs), 404) == missing
    assert error(add(client, other_store, news["id"], ann["id"]), 404) == missing
    assert error(client.delete(f"{path}/contacts/{ann['id']}", headers=theirs), 404) == missing
    assert json_of(client.get("/v1/subscriber-lists", headers=theirs))["totalCount"] == 0
    # Their own list cannot take our contact, and our list cannot be set on their contacts.
    their_list = create_list(client, other_store)
    refused = add(client, other_store, their_list["id"], ann["id"])
    assert error(refused, 422) == f"The contact {ann['id']} does not exist."
    foreign = client.post(
        "/v1/contacts",
        json={"email": "bo@example.com", "subscriberLists": [news["id"]]},
        headers=theirs,
    )
    assert error(foreign, 422) == f"The subscriber list {news['id']} does not exist."
    assert json_of(client.get(path, headers=store.headers))["subscribers"] == 1


def test_adding_an_existing_membership_again_is_harmless(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    """Two requests adding the same contact at once must not fail on the primary key."""
    news = create_list(client, store)
    ann = create_contact(client, store, email="ann@example.com")
    with db.transaction() as session:
        repository.add_to_lists(session, [(news["id"], ann["id"])])
        repository.add_to_lists(session, [(news["id"], ann["id"])])
    shown = json_of(client.get(f"/v1/subscriber-lists/{news['id']}", headers=store.headers))
    assert shown["subscribers"] == 1
