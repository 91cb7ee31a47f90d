"""Members through the store data API: the document's operations, examples and errors."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.members.schemas import ADDRESS_EXAMPLE, MEMBER_REQUEST_EXAMPLE
from cartwheel.models import Member
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import assert_pagination, create_contact, error, outbox

MEMBER_FIELDS = {
    "id",
    "name",
    "email",
    "groups",
    "registeredOn",
    "approved",
    "contactId",
    "billingAddress",
    "shippingAddress",
}


def create_member(client: TestClient, store: StoreFixture, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/members", json=fields, headers=store.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = json_of(response)
    return body


def create_group(client: TestClient, store: StoreFixture, name: str) -> int:
    response = client.post("/v1/member-groups", json={"name": name}, headers=store.headers)
    assert response.status_code == 201, response.text
    group_id: int = json_of(response)["id"]
    return group_id


def stored(db: Database, member_id: int) -> Member:
    with db.read() as session:
        row = session.get(Member, member_id)
        assert row is not None
        return row


def test_document_example_creates_a_member_with_a_hashed_password(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    response = client.post("/v1/members", json=MEMBER_REQUEST_EXAMPLE, headers=store.headers)
    assert response.status_code == 201
    body = json_of(response)
    assert set(body) == MEMBER_FIELDS
    assert "password" not in response.text and "my-password" not in response.text
    assert (body["name"], body["email"], body["approved"]) == ("John Doe", "john@doe.com", True)
    assert body["groups"] == []  # 0 is the document's "no group"
    assert body["billingAddress"] == ADDRESS_EXAMPLE == body["shippingAddress"]
    assert isinstance(body["registeredOn"], int)
    row = stored(db, body["id"])
    assert row.password_hash is not None and row.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(row.password_hash, "my-password")
    assert outbox(db, store.store_id, "member_password_reset") == []
    # The member is linked to its contact, which shows memberId.
    contact = json_of(client.get(f"/v1/contacts/{body['contactId']}", headers=store.headers))
    assert (contact["email"], contact["memberId"], contact["name"]) == (
        "john@doe.com",
        body["id"],
        "John Doe",
    )
    assert outbox(db, store.store_id, "contact_updated")[-1] == contact


def test_member_without_password_gets_a_reset_request(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = create_member(client, store, name="Nopass", email="nopass@example.com")
    assert stored(db, body["id"]).password_hash is None
    assert outbox(db, store.store_id, "member_password_reset") == [
        {"member_id": body["id"], "email": "nopass@example.com"}
    ]
    assert (body["billingAddress"], body["shippingAddress"]) == (None, None)


def test_member_links_to_the_existing_contact(client: TestClient, store: StoreFixture) -> None:
    contact = create_contact(client, store, email="known@example.com")
    member = create_member(client, store, name="Known", email="KNOWN@example.com")
    assert member["contactId"] == contact["id"]
    assert member["email"] == "known@example.com"


def test_duplicate_email_is_a_conflict(client: TestClient, store: StoreFixture) -> None:
    create_member(client, store, name="One", email="dup@example.com")
    response = client.post(
        "/v1/members", json={"name": "Two", "email": "Dup@Example.com"}, headers=store.headers
    )
    assert error(response, 409) == "A member with this email already exists."


def test_groups_are_set_listed_and_filtered(client: TestClient, store: StoreFixture) -> None:
    gold, silver = create_group(client, store, "Gold"), create_group(client, store, "Silver")
    in_gold = create_member(client, store, name="G", email="g@example.com", groups=[gold, 0])
    both = create_member(client, store, name="B", email="b@example.com", groups=[silver, gold])
    create_member(client, store, name="N", email="n@example.com")
    assert in_gold["groups"] == [gold]
    assert both["groups"] == sorted([gold, silver])
    listed = json_of(client.get(f"/v1/members?groupId={gold}", headers=store.headers))
    assert [m["id"] for m in listed["items"]] == [in_gold["id"], both["id"]]
    assert listed["totalCount"] == 2
    assert json_of(client.get("/v1/members?groupId=999999", headers=store.headers))["items"] == []
    bad = client.get("/v1/members?groupId=gold", headers=store.headers)
    assert error(bad, 400) == "The groupId parameter must be an integer."
    unknown = client.post(
        "/v1/members",
        json={"name": "U", "email": "u@example.com", "groups": [gold, 999999]},
        headers=store.headers,
    )
    assert error(unknown, 422) == "The member group 999999 does not exist."
    # A refused creation writes nothing, not even the contact.
    assert error(client.get("/v1/contacts?email=u@example.com", headers=store.headers), 404)


def test_find_by_email_and_get(client: TestClient, store: StoreFixture) -> None:
    member = create_member(client, store, name="Fay", email="fay@example.com")
    found = json_of(client.get("/v1/members?email=FAY@example.com", headers=store.headers))
    assert found == member
    assert json_of(client.get(f"/v1/members/{member['id']}", headers=store.headers)) == member
    missing = client.get("/v1/members?email=nobody@example.com", headers=store.headers)
    assert error(missing, 404) == "Member not found."
    nul = client.get("/v1/members", params={"email": "a\x00b"}, headers=store.headers)
    assert error(nul, 400) == "The email parameter must not contain NUL characters."
    for member_id in ("999999999", "2147483648"):
        response = client.get(f"/v1/members/{member_id}", headers=store.headers)
        assert error(response, 404) == "Member not found."


def test_list_is_paginated(client: TestClient, store: StoreFixture) -> None:
    ids = [
        create_member(client, store, name="M", email=f"m{i}@example.com")["id"] for i in range(3)
    ]
    assert_pagination(client, store, "/v1/members", ids)


def test_update_sets_non_empty_fields_and_never_the_password(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    group = create_group(client, store, "Club")
    member = create_member(
        client,
        store,
        name="Old",
        email="upd@example.com",
        password="first-password",
        groups=[group],
        billingAddress={"city": "Oslo", "zipCode": "0150"},
    )
    before = stored(db, member["id"]).password_hash
    response = client.put(
        f"/v1/members/{member['id']}",
        json={
            "name": "",
            "email": "upd@example.com",
            "password": "second-password",
            "groups": [],
            "approved": False,
            "billingAddress": {"city": "Bergen", "zipCode": ""},
            "shippingAddress": {"country": "NO"},
        },
        headers=store.headers,
    )
    assert response.status_code == 200
    body = json_of(response)
    assert (body["name"], body["groups"], body["approved"]) == ("Old", [group], False)
    assert body["billingAddress"]["city"] == "Bergen"
    assert body["billingAddress"]["zipCode"] == "0150"
    assert body["shippingAddress"] == {**{k: None for k in ADDRESS_EXAMPLE}, "country": "NO"}
    after = stored(db, member["id"]).password_hash
    assert after == before and after is not None
    assert PasswordHasher().verify(after, "first-password")


def test_update_requires_name_and_email(client: TestClient, store: StoreFixture) -> None:
    member = create_member(client, store, name="Req", email="req@example.com")
    response = client.put(f"/v1/members/{member['id']}", json={}, headers=store.headers)
    assert error(response, 422) == "The name field is required."
    assert json_of(response)["errors"] == {
        "name": ["The name field is required."],
        "email": ["The email field is required."],
    }


def test_document_example_updates_a_member(client: TestClient, store: StoreFixture) -> None:
    member = create_member(client, store, name="Before", email="john@doe.com")
    response = client.put(
        f"/v1/members/{member['id']}", json=MEMBER_REQUEST_EXAMPLE, headers=store.headers
    )
    body = json_of(response)
    assert response.status_code == 200
    assert (body["name"], body["billingAddress"]) == ("John Doe", ADDRESS_EXAMPLE)


def test_email_change_moves_the_member_to_that_contact(
    client: TestClient, store: StoreFixture
) -> None:
    member = create_member(client, store, name="Mo", email="mo@example.com")
    taken = create_member(client, store, name="Ta", email="ta@example.com")
    response = client.put(
        f"/v1/members/{member['id']}",
        json={"name": "Mo", "email": "ta@example.com"},
        headers=store.headers,
    )
    assert error(response, 409) == "A member with this email already exists."
    moved = json_of(
        client.put(
            f"/v1/members/{member['id']}",
            json={"name": "Mo", "email": "mo2@example.com"},
            headers=store.headers,
        )
    )
    assert moved["email"] == "mo2@example.com"
    assert moved["contactId"] not in (member["contactId"], taken["contactId"])
    old = json_of(client.get(f"/v1/contacts/{member['contactId']}", headers=store.headers))
    new = json_of(client.get(f"/v1/contacts/{moved['contactId']}", headers=store.headers))
    assert (old["memberId"], new["memberId"]) == (None, member["id"])


def test_deleting_the_contact_unlinks_the_member(client: TestClient, store: StoreFixture) -> None:
    member = create_member(client, store, name="Del", email="del@example.com")
    assert (
        client.delete(f"/v1/contacts/{member['contactId']}", headers=store.headers).status_code
        == 204
    )
    shown = json_of(client.get(f"/v1/members/{member['id']}", headers=store.headers))
    assert shown["contactId"] is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"email": "a@example.com"}, "name", "The name field is required."),
        ({"name": "", "email": "a@example.com"}, "name", "The name field may not be empty."),
        ({"name": "A"}, "email", "The email field is required."),
        ({"name": "A", "email": "a@"}, "email", "The email field must be a valid email address."),
        (
            {"name": "A", "email": "a@example.com", "password": "short"},
            "password",
            "The password field must be at least 8 characters.",
        ),
        (
            {"name": "A", "email": "a@example.com", "approved": 1},
            "approved",
            "The approved field must be true or false.",
        ),
        (
            {"name": "A", "email": "a@example.com", "groups": 3},
            "groups",
            "The groups field must be an array.",
        ),
        (
            {"name": "A", "email": "a@example.com", "billingAddress": "Main St"},
            "billingAddress",
            "The billingAddress field must be an object.",
        ),
        (
            {"name": "A", "email": "a@example.com", "shippingAddress": {"city": 5}},
            "shippingAddress.city",
            "The shippingAddress.city field must be a string.",
        ),
    ],
)
def test_validation_messages(
    client: TestClient, store: StoreFixture, body: dict[str, Any], field: str, message: str
) -> None:
    response = client.post("/v1/members", json=body, headers=store.headers)
    assert error(response, 422) == message
    assert json_of(response)["errors"][field] == [message]


OPERATIONS = [
    ("GET", "/v1/members"),
    ("POST", "/v1/members"),
    ("GET", "/v1/members/1"),
    ("PUT", "/v1/members/1"),
    ("POST", "/v1/members/sso"),
    ("GET", "/v1/member-groups"),
    ("POST", "/v1/member-groups"),
    ("GET", "/v1/member-groups/1"),
    ("PUT", "/v1/member-groups/1"),
    ("DELETE", "/v1/member-groups/1"),
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
    group = create_group(client, store, "Mine")
    member = create_member(client, store, name="Priv", email="priv@example.com", groups=[group])
    theirs = other_store.headers
    path = f"/v1/members/{member['id']}"
    assert error(client.get(path, headers=theirs), 404) == "Member not found."
    put = client.put(path, json={"name": "X", "email": "x@example.com"}, headers=theirs)
    assert error(put, 404) == "Member not found."
    assert error(client.get("/v1/members?email=priv@example.com", headers=theirs), 404)
    assert json_of(client.get("/v1/members", headers=theirs))["totalCount"] == 0
    by_group = json_of(client.get(f"/v1/members?groupId={group}", headers=theirs))
    assert by_group["totalCount"] == 0
    # Their own member with the same email is no conflict, and cannot use our group.
    create_member(client, other_store, name="Same", email="priv@example.com")
    foreign = client.post(
        "/v1/members",
        json={"name": "G", "email": "g2@example.com", "groups": [group]},
        headers=theirs,
    )
    assert error(foreign, 422) == f"The member group {group} does not exist."
    assert json_of(client.get(path, headers=store.headers)) == member
