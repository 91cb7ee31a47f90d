"""Single sign-on: a signed token and access URL, valid 15 minutes, good for one use."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cartwheel.members.endpoints import clock
from cartwheel.members.schemas import SSO_REQUEST_EXAMPLE
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import error

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def frozen(client: TestClient) -> Iterator[Clock]:
    """Moves the sign-on endpoints' clock by hand (the only thing these tests mock)."""
    app = client.app
    assert isinstance(app, FastAPI)
    fake = Clock()
    app.dependency_overrides[clock] = fake
    yield fake
    del app.dependency_overrides[clock]


def member(client: TestClient, store: StoreFixture, email: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Sam", "email": email, "password": "s3cret-pass", **fields}
    response = client.post("/v1/members", json=body, headers=store.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = json_of(response)
    return created


def sign_on(client: TestClient, store: StoreFixture, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/members/sso", json=body, headers=store.headers)
    assert response.status_code == 200, response.text
    token: dict[str, Any] = json_of(response)
    return token


def redeem(client: TestClient, token: str) -> Any:
    return client.get("/v1/members/sso/redeem", params={"token": token})


def test_document_example_signs_a_member_on(
    client: TestClient, store: StoreFixture, frozen: Clock
) -> None:
    john = member(client, store, "john@doe.com")
    answer = sign_on(client, store, SSO_REQUEST_EXAMPLE)
    assert set(answer) == {"token", "createdAt", "expiresAt", "accessUrl"}
    assert answer["createdAt"] == int(T0.timestamp())
    assert answer["expiresAt"] == answer["createdAt"] + 15 * 60
    header, claims, signature = answer["token"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert (decoded["sub"], decoded["exp"]) == (john["id"], answer["expiresAt"])
    assert signature
    url = urlsplit(answer["accessUrl"])
    assert f"{url.scheme}://{url.netloc}" == "http://127.0.0.1:8000"  # settings.sso_base_url
    assert url.path == "/v1/members/sso/redeem"
    assert parse_qs(url.query)["token"] == [answer["token"]]
    frozen.now = T0 + timedelta(minutes=5)
    session = json_of(client.get(f"{url.path}?{url.query}"))
    assert session == {"member": john, "path": "/protected-member-only-page"}


def test_a_token_works_once(client: TestClient, store: StoreFixture, frozen: Clock) -> None:
    member(client, store, "once@example.com")
    token = sign_on(client, store, {"email": "once@example.com"})["token"]
    first = redeem(client, token)
    assert first.status_code == 200 and json_of(first)["path"] is None
    assert error(redeem(client, token), 401) == "The sign-on token has already been used."
    # A new token is a new sign-on.
    assert redeem(client, sign_on(client, store, {"email": "once@example.com"})["token"]).is_success


def test_a_token_expires_after_15_minutes(
    client: TestClient, store: StoreFixture, frozen: Clock
) -> None:
    member(client, store, "late@example.com")
    early = sign_on(client, store, {"email": "late@example.com"})["token"]
    late = sign_on(client, store, {"email": "late@example.com"})["token"]
    frozen.now = T0 + timedelta(minutes=15) - timedelta(seconds=1)
    assert redeem(client, early).status_code == 200
    frozen.now = T0 + timedelta(minutes=15)
    assert error(redeem(client, late), 401) == "The sign-on token has expired."


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature altered
        lambda t: t.split(".")[0] + ".e30." + t.split(".")[2],  # claims replaced
        lambda t: "not-a-token",
        lambda t: "a.b.c",
    ],
)
def test_a_forged_token_is_refused(
    client: TestClient, store: StoreFixture, frozen: Clock, mangle: Any
) -> None:
    member(client, store, "forge@example.com")
    token = sign_on(client, store, {"email": "forge@example.com"})["token"]
    assert error(redeem(client, mangle(token)), 401) == "The sign-on token is invalid."
    assert redeem(client, token).status_code == 200  # the real one is untouched


def test_missing_token_is_refused(client: TestClient) -> None:
    assert error(client.get("/v1/members/sso/redeem"), 401) == "The sign-on token is invalid."


def test_unknown_and_unapproved_members(
    client: TestClient, store: StoreFixture, frozen: Clock
) -> None:
    missing = client.post(
        "/v1/members/sso", json={"email": "ghost@example.com"}, headers=store.headers
    )
    assert error(missing, 404) == "Member not found."
    member(client, store, "pending@example.com", approved=False)
    refused = client.post(
        "/v1/members/sso", json={"email": "pending@example.com"}, headers=store.headers
    )
    assert error(refused, 403) == "The member is not approved."


def test_approval_is_checked_again_when_redeeming(
    client: TestClient, store: StoreFixture, frozen: Clock
) -> None:
    sam = member(client, store, "revoked@example.com")
    token = sign_on(client, store, {"email": "revoked@example.com"})["token"]
    client.put(
        f"/v1/members/{sam['id']}",
        json={"name": "Sam", "email": "revoked@example.com", "approved": False},
        headers=store.headers,
    )
    assert error(redeem(client, token), 403) == "The member is not approved."


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "email", "The email field is required."),
        ({"email": "x"}, "email", "The email field must be a valid email address."),
        (
            {"email": "a@example.com", "path": "https://evil.example.com/"},
            "path",
            "The path field must be a path starting with /.",
        ),
        (
            {"email": "a@example.com", "path": "//evil.example.com/"},
            "path",
            "The path field must be a path starting with /.",
        ),
        ({"email": "a@example.com", "path": 3}, "path", "The path field must be a string."),
    ],
)
def test_validation_messages(
    client: TestClient, store: StoreFixture, body: dict[str, Any], field: str, message: str
) -> None:
    response = client.post("/v1/members/sso", json=body, headers=store.headers)
    assert error(response, 422) == message
    assert json_of(response)["errors"] == {field: [message]}


def test_another_store_cannot_sign_our_members_on(
    client: TestClient, store: StoreFixture, other_store: StoreFixture, frozen: Clock
) -> None:
    member(client, store, "ours@example.com")
    theirs = client.post(
        "/v1/members/sso", json={"email": "ours@example.com"}, headers=other_store.headers
    )
    assert error(theirs, 404) == "Member not found."
    # A token signed for one store does not verify with another store's key.
    sign_on(client, store, {"email": "ours@example.com"})  # our store has a key too
    member(client, other_store, "ours@example.com")
    token = sign_on(client, other_store, {"email": "ours@example.com"})["token"]
    header, claims, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    decoded["sid"] = store.store_id
    forged_claims = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    forged = f"{header}.{forged_claims}.{signature}"
    assert error(redeem(client, forged), 401) == "The sign-on token is invalid."
