"""Every validation message of the contact bodies, and the body-level 400s."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import create_contact, error

CASES: list[tuple[dict[str, Any], str, str]] = [
    ({}, "email", "The email field is required."),
    ({"email": "nope"}, "email", "The email field must be a valid email address."),
    ({"email": 5}, "email", "The email field must be a string."),
    ({"name": 5}, "name", "The name field must be a string."),
    ({"name": "x" * 301}, "name", "The name field may not be greater than 300 characters."),
    ({"subscribed": "yes"}, "subscribed", "The subscribed field must be true or false."),
    ({"tags": "a"}, "tags", "The tags field must be an array."),
    ({"tags": [""]}, "tags.0", "The tags.0 field may not be empty."),
    ({"tags": ["t"] * 101}, "tags", "The tags field may not have more than 100 items."),
    ({"properties": [5]}, "properties.0", "The properties.0 field must be an object."),
    ({"properties": [{}]}, "properties.0.name", "The properties.0.name field is required."),
    (
        {"subscriberLists": ["1"]},
        "subscriberLists.0",
        "The subscriberLists.0 field must be an integer.",
    ),
    (
        {"subscriberLists": [-1]},
        "subscriberLists.0",
        "The subscriberLists.0 field must be at least 0.",
    ),
    (
        {"subscriberLists": [2**31]},
        "subscriberLists.0",
        "The subscriberLists.0 field may not be greater than 2147483647.",
    ),
]


@pytest.mark.parametrize(("patch", "field", "message"), CASES)
def test_create_and_update_validation_messages(
    client: TestClient, store: StoreFixture, patch: dict[str, Any], field: str, message: str
) -> None:
    body = {"email": "valid@example.com", **patch} if "email" not in patch and patch else patch
    created = client.post("/v1/contacts", json=body, headers=store.headers)
    assert error(created, 422) == message
    assert json_of(created)["errors"][field] == [message]
    existing = create_contact(client, store, email="valid@example.com")
    updated = client.put(f"/v1/contacts/{existing['id']}", json=body, headers=store.headers)
    assert error(updated, 422) == message


def test_every_bad_field_is_listed(client: TestClient, store: StoreFixture) -> None:
    response = client.post("/v1/contacts", json={"name": 1, "tags": 2}, headers=store.headers)
    assert json_of(response)["errors"] == {
        "email": ["The email field is required."],
        "name": ["The name field must be a string."],
        "tags": ["The tags field must be an array."],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The request body is empty; a JSON object is expected."),
        (b"[1, 2]", "The request body must be a JSON object."),
        (b'"text"', "The request body must be a JSON object."),
    ],
)
def test_body_that_is_not_an_object_is_400(
    client: TestClient, store: StoreFixture, content: bytes, message: str
) -> None:
    response = client.post(
        "/v1/contacts",
        content=content,
        headers={**store.headers, "Content-Type": "application/json"},
    )
    assert error(response, 400) == message


def test_malformed_json_is_400(client: TestClient, store: StoreFixture) -> None:
    response = client.post(
        "/v1/contacts",
        content=b"{nope",
        headers={**store.headers, "Content-Type": "application/json"},
    )
    assert error(response, 400).startswith("The request body is not valid JSON")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "name": "A\x00"}, "name"),
        (
            {"email": "a@example.com", "properties": [{"name": "p", "value": "\x00"}]},
            "properties.0.value",
        ),
        (
            {"email": "a@example.com", "properties": [{"name": "p", "value": {"k\x00": 1}}]},
            "properties.0.value.k\x00",
        ),
    ],
)
def test_nul_characters_are_refused(
    client: TestClient, store: StoreFixture, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/contacts", json=body, headers=store.headers)
    message = f"The {field} field must not contain NUL characters."
    assert error(response, 422) == message
    assert json_of(response)["errors"] == {field: [message]}


@pytest.mark.parametrize("name", ["email", "phone", "externalId"])
def test_nul_characters_in_filters_are_400(
    client: TestClient, store: StoreFixture, name: str
) -> None:
    response = client.get("/v1/contacts", params={name: "a\x00b"}, headers=store.headers)
    assert error(response, 400) == f"The {name} parameter must not contain NUL characters."
