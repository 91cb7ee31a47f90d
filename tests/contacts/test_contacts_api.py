"""Contacts through the store data API: the document's operations, examples and errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from cartwheel.contacts.schemas import CONTACT_REQUEST_EXAMPLE
from cartwheel.db import Database
from cartwheel.models import Contact, ContactIdentifier
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import assert_pagination, create_contact, error, outbox

DOCUMENT_FIELDS = {
    "id",
    "name",
    "email",
    "phone",
    "note",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "companyName",
    "createdOn",
    "properties",
    "tags",
    "memberId",
    "subscribed",
    "subscriberLists",
}
NATIVE_FIELDS = {"uuid", "firstName", "lastName", "externalIds", "customFields", "source"}


def identifiers(db: Database, contact_id: int) -> set[tuple[str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(ContactIdentifier.kind, ContactIdentifier.value).where(
                ContactIdentifier.contact_id == contact_id
            )
        )
        return {(kind, value) for kind, value in rows}


def test_document_example_creates_a_contact(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    # The document's example phone (+123456789) is not a possible number: refused, as every
    # phone that is not (tests/contacts/test_phone_and_single_line.py).
    example = {**CONTACT_REQUEST_EXAMPLE, "phone": "+1 202 555 0123"}
    response = client.post("/v1/contacts", json=example, headers=store.headers)
    assert response.status_code == 201
    body = json_of(response)
    assert set(body) == DOCUMENT_FIELDS | NATIVE_FIELDS
    assert body["name"] == "John Doe"
    assert body["email"] == "john@doe.com"
    assert body["phone"] == "+12025550123"
    for field in ("note", "address", "city", "state", "zip", "country", "companyName"):
        assert body[field] == "string"
    assert body["properties"] == [{"name": "lead_status", "value": "contacted"}]
    assert body["customFields"] == {"lead_status": "contacted"}
    assert body["tags"] == ["string"]
    assert body["subscribed"] is True
    assert body["subscriberLists"] == []  # 0 is the document's "no list"
    assert body["memberId"] is None
    assert body["source"] == "api"
    assert isinstance(body["createdOn"], int)
    assert identifiers(db, body["id"]) == {("email", "john@doe.com"), ("phone", "+12025550123")}
    assert outbox(db, store.store_id, "contact_updated") == [body]


def test_existing_email_is_updated_with_only_the_supplied_fields(
    client: TestClient, store: StoreFixture
) -> None:
    first = create_contact(client, store, email="ann@example.com", name="Ann", city="Oslo")
    response = client.post(
        "/v1/contacts",
        json={"email": "ANN@example.com", "note": "vip", "city": ""},
        headers=store.headers,
    )
    assert response.status_code == 200
    body = json_of(response)
    assert body["id"] == first["id"]
    assert (body["name"], body["note"], body["city"]) == ("Ann", "vip", None)


def test_find_by_email_answers_the_contact(client: TestClient, store: StoreFixture) -> None:
    created = create_contact(client, store, email="find@example.com", name="Finn")
    found = json_of(client.get("/v1/contacts?email=Find@Example.com", headers=store.headers))
    assert found == created
    missing = client.get("/v1/contacts?email=nobody@example.com", headers=store.headers)
    assert error(missing, 404) == "Contact not found."
    blank = client.get("/v1/contacts?email=", headers=store.headers)
    assert error(blank, 400) == "The email parameter may not be empty."


def test_find_by_email_with_phone_must_match_both(client: TestClient, store: StoreFixture) -> None:
    create_contact(client, store, email="both@example.com", phone="+1 555 010 0001")
    both = client.get(
        "/v1/contacts",
        params={"email": "both@example.com", "phone": "555-010-0001"},
        headers=store.headers,
    )
    assert json_of(both)["email"] == "both@example.com"
    wrong = client.get(
        "/v1/contacts",
        params={"email": "both@example.com", "phone": "555-010-0002"},
        headers=store.headers,
    )
    assert error(wrong, 404) == "Contact not found."


def test_list_filters_by_created_date_inclusive(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    ids = [create_contact(client, store, email=f"c{i}@example.com")["id"] for i in range(3)]
    with db.transaction() as session:
        base = session.get(Contact, ids[0])
        assert base is not None
        start = base.created_at.replace(microsecond=0)
        for offset, contact_id in enumerate(ids):
            session.execute(
                update(Contact)
                .where(Contact.id == contact_id)
                .values(created_at=start + timedelta(seconds=100 * offset, microseconds=500))
            )
    t0 = int(start.timestamp())

    def listed(query: str) -> list[int]:
        body = json_of(client.get(f"/v1/contacts?{query}", headers=store.headers))
        return [item["id"] for item in body["items"]]

    assert listed(f"created_at_min={t0 + 100}") == ids[1:]
    assert listed(f"created_at_max={t0 + 100}") == ids[:2]
    assert listed(f"created_at_min={t0 + 100}&created_at_max={t0 + 100}") == [ids[1]]
    assert listed(f"created_at_min={t0 + 101}&created_at_max={t0 + 199}") == []
    shown = json_of(client.get(f"/v1/contacts/{ids[1]}", headers=store.headers))
    assert shown["createdOn"] == t0 + 100


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("created_at_min=abc", "The created_at_min parameter must be an integer."),
        ("created_at_max=1.5", "The created_at_max parameter must be an integer."),
        ("created_at_min=-1", "The created_at_min parameter must be at least 0."),
        (
            "created_at_max=253402300800",
            "The created_at_max parameter may not be greater than 253402300799.",
        ),
    ],
)
def test_bad_created_filters_are_400(
    client: TestClient, store: StoreFixture, query: str, message: str
) -> None:
    assert error(client.get(f"/v1/contacts?{query}", headers=store.headers), 400) == message


def test_list_is_paginated(client: TestClient, store: StoreFixture) -> None:
    ids = [create_contact(client, store, email=f"p{i}@example.com")["id"] for i in range(3)]
    assert_pagination(client, store, "/v1/contacts", ids)


def test_get_by_id_and_missing_ids(client: TestClient, store: StoreFixture) -> None:
    created = create_contact(client, store, email="get@example.com")
    assert json_of(client.get(f"/v1/contacts/{created['id']}", headers=store.headers)) == created
    for missing in ("999999999", "2147483648", "99999999999999999999999"):
        response = client.get(f"/v1/contacts/{missing}", headers=store.headers)
        assert error(response, 404) == "Contact not found."
    assert error(client.get("/v1/contacts/abc", headers=store.headers), 422)


def test_update_sets_only_non_empty_fields(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    created = create_contact(
        client, store, email="up@example.com", name="Una", city="Rome", tags=["a"]
    )
    response = client.put(
        f"/v1/contacts/{created['id']}",
        json={
            "email": "up@example.com",
            "name": "",
            "city": None,
            "tags": [],
            "note": "called",
            "subscribed": False,
        },
        headers=store.headers,
    )
    body = json_of(response)
    assert response.status_code == 200
    assert (body["name"], body["city"], body["tags"]) == ("Una", "Rome", ["a"])
    assert (body["note"], body["subscribed"]) == ("called", False)
    assert outbox(db, store.store_id, "contact_updated")[-1] == body


def test_document_example_updates_a_contact(client: TestClient, store: StoreFixture) -> None:
    created = create_contact(client, store, email="john@doe.com", name="Johnny")
    response = client.put(
        f"/v1/contacts/{created['id']}",
        json={**CONTACT_REQUEST_EXAMPLE, "phone": "+1 202 555 0123"},
        headers=store.headers,
    )
    body = json_of(response)
    assert response.status_code == 200
    assert (body["id"], body["name"], body["companyName"]) == (created["id"], "John Doe", "string")


def test_changing_email_moves_the_identity(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    created = create_contact(client, store, email="old@example.com")
    moved = json_of(
        client.put(
            f"/v1/contacts/{created['id']}",
            json={"email": "New@Example.com"},
            headers=store.headers,
        )
    )
    assert moved["email"] == "new@example.com"
    assert identifiers(db, created["id"]) == {("email", "new@example.com")}
    again = client.post("/v1/contacts", json={"email": "old@example.com"}, headers=store.headers)
    assert again.status_code == 201 and json_of(again)["id"] != created["id"]


def test_email_of_another_contact_is_a_conflict(client: TestClient, store: StoreFixture) -> None:
    create_contact(client, store, email="taken@example.com")
    other = create_contact(client, store, email="free@example.com")
    response = client.put(
        f"/v1/contacts/{other['id']}", json={"email": "taken@example.com"}, headers=store.headers
    )
    assert error(response, 409) == "A contact with this email already exists."


def test_phone_is_stored_as_e164_with_its_identifier(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    created = create_contact(client, store, email="ph@example.com", phone="(555) 010-0100")
    assert created["phone"] == "+15550100100"
    assert ("phone", "+15550100100") in identifiers(db, created["id"])
    updated = json_of(
        client.put(
            f"/v1/contacts/{created['id']}",
            json={"email": "ph@example.com", "phone": "+44 20 7946 0000"},
            headers=store.headers,
        )
    )
    assert updated["phone"] == "+442079460000"
    assert identifiers(db, created["id"]) == {
        ("email", "ph@example.com"),
        ("phone", "+442079460000"),
    }
    # Two people may share a phone: the second keeps it as a field, the first the identity.
    sharer = create_contact(client, store, email="sharer@example.com", phone="+442079460000")
    assert sharer["phone"] == "+442079460000"
    assert identifiers(db, sharer["id"]) == {("email", "sharer@example.com")}


def test_properties_merge_by_name_and_null_removes(client: TestClient, store: StoreFixture) -> None:
    created = create_contact(
        client,
        store,
        email="props@example.com",
        properties=[{"name": "a", "value": "1"}, {"name": "b", "value": "2"}],
    )
    body = json_of(
        client.put(
            f"/v1/contacts/{created['id']}",
            json={
                "email": "props@example.com",
                "properties": [{"name": "a", "value": None}, {"name": "c", "value": "3"}],
            },
            headers=store.headers,
        )
    )
    assert body["properties"] == [{"name": "b", "value": "2"}, {"name": "c", "value": "3"}]
    assert body["customFields"] == {"b": "2", "c": "3"}


def test_subscriber_lists_are_set_and_checked(client: TestClient, store: StoreFixture) -> None:
    first = json_of(client.post("/v1/subscriber-lists", json={"name": "A"}, headers=store.headers))
    second = json_of(client.post("/v1/subscriber-lists", json={"name": "B"}, headers=store.headers))
    created = create_contact(
        client, store, email="lists@example.com", subscriberLists=[second["id"], first["id"], 0]
    )
    assert created["subscriberLists"] == [first["id"], second["id"]]
    replaced = json_of(
        client.post(
            "/v1/contacts",
            json={"email": "lists@example.com", "subscriberLists": [second["id"]]},
            headers=store.headers,
        )
    )
    assert replaced["subscriberLists"] == [second["id"]]
    response = client.post(
        "/v1/contacts",
        json={"email": "lists@example.com", "subscriberLists": [first["id"], 999999]},
        headers=store.headers,
    )
    assert error(response, 422) == "The subscriber list 999999 does not exist."
    assert json_of(response)["errors"] == {
        "subscriberLists": ["The subscriber list 999999 does not exist."]
    }
    # Nothing of the refused request was written.
    shown = json_of(client.get(f"/v1/contacts/{created['id']}", headers=store.headers))
    assert shown["subscriberLists"] == [second["id"]]


def test_delete_hides_the_contact_and_frees_its_identity(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    created = create_contact(client, store, email="gone@example.com", phone="555-010-0199")
    response = client.delete(f"/v1/contacts/{created['id']}", headers=store.headers)
    assert response.status_code == 204 and response.content == b""
    assert error(client.get(f"/v1/contacts/{created['id']}", headers=store.headers), 404)
    assert error(client.get("/v1/contacts?email=gone@example.com", headers=store.headers), 404)
    assert json_of(client.get("/v1/contacts", headers=store.headers))["totalCount"] == 0
    assert identifiers(db, created["id"]) == set()
    assert outbox(db, store.store_id, "contact_deleted") == [{"contact_id": created["id"]}]
    again = create_contact(client, store, email="gone@example.com")
    assert again["id"] != created["id"]
    second = client.delete(f"/v1/contacts/{created['id']}", headers=store.headers)
    assert error(second, 404) == "Contact not found."
    put = client.put(
        f"/v1/contacts/{created['id']}", json={"email": "x@example.com"}, headers=store.headers
    )
    assert error(put, 404) == "Contact not found."


def test_deleting_a_contact_unlinks_its_submissions_and_bookings(
    client: TestClient, store: StoreFixture
) -> None:
    submitted = client.post(
        "/v1/forms/Newsletter/submissions",
        json={"fields": [{"name": "email", "value": "link@example.com"}]},
        headers=store.client_headers(),
    )
    contact_id = json_of(submitted)["contactId"]
    booked = client.post(
        "/v1/bookings",
        json={"eventId": 3, "email": "link@example.com", "start": 1, "end": 2},
        headers=store.headers,
    )
    assert json_of(booked)["contactId"] == contact_id
    assert client.delete(f"/v1/contacts/{contact_id}", headers=store.headers).status_code == 204
    submissions = json_of(client.get("/v1/form-submissions", headers=store.headers))["items"]
    bookings = json_of(client.get("/v1/bookings", headers=store.headers))["items"]
    assert [s["contactId"] for s in submissions] == [None]
    assert [b["contactId"] for b in bookings] == [None]
