"""Member groups: create, read, update, list, delete; per store."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cartwheel.members.schemas import GROUP_REQUEST_EXAMPLE
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import assert_pagination, error


def test_document_example_creates_and_updates_a_group(
    client: TestClient, store: StoreFixture
) -> None:
    created = client.post("/v1/member-groups", json=GROUP_REQUEST_EXAMPLE, headers=store.headers)
    assert created.status_code == 201
    group = json_of(created)
    assert set(group) == {"id", "name", "link"}
    assert (group["name"], group["link"]) == ("New group", "")
    path = f"/v1/member-groups/{group['id']}"
    assert json_of(client.get(path, headers=store.headers)) == group
    renamed = client.put(
        path, json={"name": "Basic Members", "link": "/basic"}, headers=store.headers
    )
    assert json_of(renamed) == {"id": group["id"], "name": "Basic Members", "link": "/basic"}
    kept = client.put(path, json={"name": "Basic"}, headers=store.headers)
    assert json_of(kept)["link"] == "/basic"
    cleared = client.put(path, json=GROUP_REQUEST_EXAMPLE, headers=store.headers)
    assert json_of(cleared) == {"id": group["id"], "name": "New group", "link": ""}


def test_list_is_paginated(client: TestClient, store: StoreFixture) -> None:
    ids = [
        json_of(client.post("/v1/member-groups", json={"name": f"G{i}"}, headers=store.headers))[
            "id"
        ]
        for i in range(3)
    ]
    assert_pagination(client, store, "/v1/member-groups", ids)


def test_delete_keeps_its_members(client: TestClient, store: StoreFixture) -> None:
    group = json_of(client.post("/v1/member-groups", json={"name": "Temp"}, headers=store.headers))
    member = json_of(
        client.post(
            "/v1/members",
            json={"name": "In", "email": "in@example.com", "groups": [group["id"]]},
            headers=store.headers,
        )
    )
    response = client.delete(f"/v1/member-groups/{group['id']}", headers=store.headers)
    assert response.status_code == 204 and response.content == b""
    gone = client.get(f"/v1/member-groups/{group['id']}", headers=store.headers)
    assert error(gone, 404) == "Member group not found."
    again = client.delete(f"/v1/member-groups/{group['id']}", headers=store.headers)
    assert error(again, 404) == "Member group not found."
    shown = json_of(client.get(f"/v1/members/{member['id']}", headers=store.headers))
    assert shown["groups"] == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "name", "The name field is required."),
        ({"name": ""}, "name", "The name field may not be empty."),
        ({"name": "x" * 201}, "name", "The name field may not be greater than 200 characters."),
        ({"name": "G", "link": 1}, "link", "The link field must be a string."),
    ],
)
def test_validation_messages(
    client: TestClient, store: StoreFixture, body: dict[str, object], field: str, message: str
) -> None:
    created = client.post("/v1/member-groups", json=body, headers=store.headers)
    assert error(created, 422) == message
    assert json_of(created)["errors"] == {field: [message]}
    group = json_of(client.post("/v1/member-groups", json={"name": "G"}, headers=store.headers))
    updated = client.put(f"/v1/member-groups/{group['id']}", json=body, headers=store.headers)
    assert error(updated, 422) == message


def test_another_store_sees_changes_and_detects_nothing(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    group = json_of(client.post("/v1/member-groups", json={"name": "A"}, headers=store.headers))
    path = f"/v1/member-groups/{group['id']}"
    theirs = other_store.headers
    assert error(client.get(path, headers=theirs), 404) == "Member group not found."
    assert error(client.put(path, json={"name": "B"}, headers=theirs), 404)
    assert error(client.delete(path, headers=theirs), 404) == "Member group not found."
    assert json_of(client.get("/v1/member-groups", headers=theirs))["totalCount"] == 0
    assert json_of(client.get(path, headers=store.headers)) == group
