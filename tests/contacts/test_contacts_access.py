"""Who may use the contacts API, tenancy, and the one-record-two-views promise."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, IngestResult, ProfilePatch
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import create_contact, error

OPERATIONS = [
    ("GET", "/v1/contacts"),
    ("POST", "/v1/contacts"),
    ("GET", "/v1/contacts/1"),
    ("PUT", "/v1/contacts/1"),
    ("DELETE", "/v1/contacts/1"),
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_secret_key_is_required(
    client: TestClient, store: StoreFixture, method: str, path: str
) -> None:
    assert error(client.request(method, path), 401) == "Unauthenticated."
    wrong = {"Authorization": "Bearer cw_sk_not-a-key"}
    assert error(client.request(method, path, headers=wrong), 401) == "Unauthenticated."
    # The public client credential may send events and submit forms, nothing else.
    refused = client.request(
        method, path, json={"email": "a@example.com"}, headers=store.client_headers()
    )
    assert error(refused, 401) == "Unauthenticated."


def test_another_store_sees_changes_and_detects_nothing(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    mine = create_contact(client, store, email="private@example.com", name="Pia")
    path = f"/v1/contacts/{mine['id']}"
    theirs = other_store.headers
    assert error(client.get(path, headers=theirs), 404) == "Contact not found."
    put = client.put(path, json={"email": "private@example.com", "name": "X"}, headers=theirs)
    assert error(put, 404) == "Contact not found."
    assert error(client.delete(path, headers=theirs), 404) == "Contact not found."
    found = client.get("/v1/contacts?email=private@example.com", headers=theirs)
    assert error(found, 404) == "Contact not found."
    assert json_of(client.get("/v1/contacts", headers=theirs))["totalCount"] == 0
    # The same email in the other store is a different person, created fresh.
    response = client.post("/v1/contacts", json={"email": "private@example.com"}, headers=theirs)
    assert response.status_code == 201 and json_of(response)["id"] != mine["id"]
    assert json_of(client.get(path, headers=store.headers)) == mine


def test_a_contact_created_by_an_event_is_the_same_record(
    client: TestClient, runtime: Runtime, store: StoreFixture
) -> None:
    hints = IdentityHints()
    hints.add("external", "cust-42")
    hints.add("email", "evented@example.com")
    event = CanonicalEvent(
        store_id=store.store_id,
        name="signed_up",
        identity=hints,
        source="woocommerce",
        profile=ProfilePatch(
            fields={"first_name": "Eve", "city": "Lyon"}, custom_fields={"vip": 1}
        ),
    )
    (result,) = runtime.writer.submit_sync([event])
    assert isinstance(result, IngestResult)
    shown = json_of(client.get(f"/v1/contacts/{result.contact_id}", headers=store.headers))
    assert shown["uuid"] == str(result.contact_uuid)
    assert (shown["email"], shown["name"], shown["firstName"]) == (
        "evented@example.com",
        "Eve",
        "Eve",
    )
    assert (shown["city"], shown["source"], shown["externalIds"]) == (
        "Lyon",
        "woocommerce",
        ["cust-42"],
    )
    assert shown["properties"] == [{"name": "vip", "value": 1}]
    # The API finds and updates that same row; the next event still resolves to it.
    found = json_of(client.get("/v1/contacts?externalId=cust-42", headers=store.headers))
    assert [c["id"] for c in found["items"]] == [result.contact_id]
    updated = client.post(
        "/v1/contacts", json={"email": "EVENTED@example.com", "note": "hi"}, headers=store.headers
    )
    assert updated.status_code == 200 and json_of(updated)["id"] == result.contact_id
    (again,) = runtime.writer.submit_sync(
        [CanonicalEvent(store_id=store.store_id, name="viewed", identity=hints)]
    )
    assert isinstance(again, IngestResult) and again.contact_id == result.contact_id


def test_a_deleted_contact_comes_back_as_new_through_events(
    client: TestClient, runtime: Runtime, store: StoreFixture
) -> None:
    created = create_contact(client, store, email="back@example.com")
    assert client.delete(f"/v1/contacts/{created['id']}", headers=store.headers).status_code == 204
    hints = IdentityHints()
    hints.add("email", "back@example.com")
    (result,) = runtime.writer.submit_sync(
        [CanonicalEvent(store_id=store.store_id, name="viewed", identity=hints)]
    )
    assert isinstance(result, IngestResult)
    assert result.contact_id != created["id"]
    found = json_of(client.get("/v1/contacts?email=back@example.com", headers=store.headers))
    assert found["id"] == result.contact_id


def test_any_custom_field_an_event_stored_is_shown(
    client: TestClient, runtime: Runtime, store: StoreFixture
) -> None:
    hints = IdentityHints()
    hints.add("email", "odd@example.com")
    event = CanonicalEvent(
        store_id=store.store_id,
        name="seen",
        identity=hints,
        profile=ProfilePatch(custom_fields={"": "blank", "nested": {"a": [1]}}),
    )
    (result,) = runtime.writer.submit_sync([event])
    assert isinstance(result, IngestResult)
    shown = json_of(client.get(f"/v1/contacts/{result.contact_id}", headers=store.headers))
    assert shown["properties"] == [
        {"name": "", "value": "blank"},
        {"name": "nested", "value": {"a": [1]}},
    ]
