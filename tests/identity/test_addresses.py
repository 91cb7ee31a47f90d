"""One rule for email: the same address is accepted or refused alike by every wire format and
by the store data API, and stored normalized (identity/addresses.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from cartwheel.identity.addresses import is_valid_email, normalize_email
from tests.conftest import StoreFixture, json_of

Sender = Callable[[TestClient, StoreFixture, str], Response]


def native(client: TestClient, store: StoreFixture, email: str) -> Response:
    body = {"name": "Viewed", "contact": {"email": email}}
    return client.post("/v1/events", json=body, headers=store.headers)


def redo(client: TestClient, store: StoreFixture, email: str) -> Response:
    body = {"eventName": "Viewed", "customer": {"email": email}}
    return client.post(f"/stores/{store.store_id}/events", json=body, headers=store.headers)


def omnisend(client: TestClient, store: StoreFixture, email: str) -> Response:
    body = {"eventName": "viewed", "origin": "api", "contact": {"email": email}}
    return client.post("/v5/events", json=body, headers=store.headers)


def lindris(client: TestClient, store: StoreFixture, email: str) -> Response:
    body = {"eventName": "viewed", "source": "woocommerce", "email": email}
    return client.post("/api/events", json=body, headers=store.headers)


def voucherify(client: TestClient, store: StoreFixture, email: str) -> Response:
    body = {"event": "viewed", "customer": {"email": email}}
    return client.post("/client/v1/events", json=body, headers=store.client_headers())


def contacts_api(client: TestClient, store: StoreFixture, email: str) -> Response:
    return client.post("/v1/contacts", json={"email": email}, headers=store.headers)


SENDERS: dict[str, Sender] = {
    "native": native,
    "redo": redo,
    "omnisend": omnisend,
    "lindris": lindris,
    "voucherify": voucherify,
    "contacts API": contacts_api,
}

REFUSED = [
    "ann@shop",  # a bare host name
    "a@",
    "@c.example",
    "a b@c.example",
    "a@@c.example",
    "a@b@c.example",
    "a@c..example",
    "a@.c.example",
    "a@c.example.",
    "ann\x00@c.example",
    "x" * 65 + "@c.example",  # local part over 64
    "a@" + "b" * 64 + ".example",  # a label over 63
    "a@" + "b." * 127 + "example",  # a domain over 255
    "a@c.example\r\nBcc: x@evil.example",
]

ACCEPTED = ["ann@shop.example", "Ann.Lee+vip@Mail.Shop.Example", "o'brien@c.example"]


@pytest.mark.parametrize("email", REFUSED)
def test_the_rule_refuses(email: str) -> None:
    assert not is_valid_email(email)


@pytest.mark.parametrize("email", ACCEPTED)
def test_the_rule_accepts(email: str) -> None:
    assert is_valid_email(email)


def test_normalization_trims_and_lower_cases() -> None:
    assert normalize_email("  Ann@Shop.EXAMPLE ") == "ann@shop.example"
    assert normalize_email("   ") is None


def test_normalization_composes_unicode_so_one_person_has_one_address() -> None:
    decomposed, composed = "jose\u0301@c.example", "jos\u00e9@c.example"
    assert normalize_email(decomposed) == normalize_email(composed) == composed


def test_nfc_and_nfd_spellings_of_one_email_are_one_contact(
    client: TestClient, store: StoreFixture
) -> None:
    first = native(client, store, "Jose\u0301@c.example").json()
    second = native(client, store, "jos\u00e9@c.example").json()
    assert first["contactId"] == second["contactId"]


@pytest.mark.parametrize("fmt", SENDERS)
def test_every_format_refuses_what_the_rule_refuses(
    client: TestClient, store: StoreFixture, fmt: str
) -> None:
    for email in REFUSED:
        response = SENDERS[fmt](client, store, email)
        assert response.status_code in (400, 422), (email, response.status_code, response.text)
    # Nothing was stored for any of them.
    found = json_of(client.get("/v1/contacts", headers=store.headers))
    assert found["totalCount"] == 0


@pytest.mark.parametrize("fmt", SENDERS)
def test_every_format_accepts_and_stores_the_normalized_address(
    client: TestClient, store: StoreFixture, fmt: str
) -> None:
    response = SENDERS[fmt](client, store, "Ann.Lee+vip@Mail.Shop.Example")
    assert response.status_code < 300, response.text
    found: Any = json_of(
        client.get(
            "/v1/contacts", params={"email": "ann.lee+vip@mail.shop.example"}, headers=store.headers
        )
    )
    assert found["email"] == "ann.lee+vip@mail.shop.example"
