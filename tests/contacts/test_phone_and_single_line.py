"""One phone rule (``normalize_phone``: E.164, or refused) and no control characters in the
identifier, code and name fields of the store data API: a 422 in the API's own shape, and
nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bookings.test_bookings import BOOKING_REQUEST_EXAMPLE
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import create_contact, error

BAD_PHONES = ["abc", "+", "' OR 1=1 --", "a\r\nX-Injected: 1", "12"]
PHONE_MESSAGE = "The phone field must be a valid phone number."


@pytest.mark.parametrize("phone", BAD_PHONES)
def test_an_invalid_phone_is_a_422_and_not_stored(
    client: TestClient, store: StoreFixture, phone: str
) -> None:
    created = client.post(
        "/v1/contacts", json={"email": "pat@example.com", "phone": phone}, headers=store.headers
    )
    assert error(created, 422) == PHONE_MESSAGE
    assert json_of(created)["errors"] == {"phone": [PHONE_MESSAGE]}
    existing = create_contact(client, store, email="pat@example.com", phone="+1 555 010 4242")
    assert existing["phone"] == "+15550104242"
    updated = client.put(
        f"/v1/contacts/{existing['id']}",
        json={"email": "pat@example.com", "phone": phone},
        headers=store.headers,
    )
    assert error(updated, 422) == PHONE_MESSAGE
    shown = json_of(client.get(f"/v1/contacts/{existing['id']}", headers=store.headers))
    assert shown["phone"] == "+15550104242"


def test_an_empty_phone_still_clears_and_a_valid_one_is_e164(
    client: TestClient, store: StoreFixture
) -> None:
    contact = create_contact(client, store, email="quinn@example.com", phone="(555) 010-4343")
    assert contact["phone"] == "+15550104343"
    cleared = client.post(
        "/v1/contacts", json={"email": "quinn@example.com", "phone": ""}, headers=store.headers
    )
    assert cleared.status_code == 200, cleared.text
    assert json_of(cleared)["phone"] is None


@pytest.mark.parametrize("phone", ["abc", "a\r\nX-Injected: 1"])
def test_an_invalid_phone_in_a_form_is_a_422(
    client: TestClient, store: StoreFixture, phone: str
) -> None:
    body = {
        "fields": [{"name": "email", "value": "rae@example.com"}, {"name": "phone", "value": phone}]
    }
    response = client.post(
        "/v1/forms/contact/submissions", json=body, headers=store.client_headers()
    )
    assert error(response, 422) == PHONE_MESSAGE
    assert json_of(response)["errors"] == {"fields.1.value": [PHONE_MESSAGE]}
    assert (
        json_of(client.get("/v1/contacts?email=rae@example.com", headers=store.headers))
        in (
            {"items": [], "totalCount": 0},
            None,
        )
        or client.get("/v1/contacts?email=rae@example.com", headers=store.headers).status_code
        == 404
    )


CONTROL = ["a\r\nX-Injected: 1", "a\x01b", "a\tb", "a\x7fb", "a\x1bb"]


def _cases() -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, body, field) with a control character in the field."""
    email = {"email": "sam@example.com"}
    cases: list[tuple[str, str, dict[str, Any], str]] = []
    for bad in CONTROL:
        cases += [
            ("POST", "/v1/contacts", {**email, "name": bad}, "name"),
            ("POST", "/v1/contacts", {**email, "firstName": bad}, "firstName"),
            ("POST", "/v1/contacts", {**email, "companyName": bad}, "companyName"),
            ("POST", "/v1/contacts", {**email, "tags": [bad]}, "tags.0"),
            ("POST", "/v1/contacts", {**email, "properties": [{"name": bad}]}, "properties.0.name"),
            ("POST", "/v1/members", {**email, "name": bad}, "name"),
            ("POST", "/v1/members/sso", {**email, "path": "/" + bad}, "path"),
            ("POST", "/v1/subscriber-lists", {"name": bad}, "name"),
            ("POST", "/v1/member-groups", {"name": bad}, "name"),
            ("POST", "/v1/categories", {"name": bad}, "name"),
            ("POST", "/v1/categories", {"name": "Doors", "url": bad}, "url"),
            ("POST", "/v1/products", {"type": "physical", "title": bad}, "title"),
            ("POST", "/v1/bookings", {**BOOKING_REQUEST_EXAMPLE, "name": bad}, "name"),
        ]
    return cases


@pytest.mark.parametrize(("method", "path", "body", "field"), _cases())
def test_control_characters_are_refused(
    client: TestClient,
    store: StoreFixture,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = client.request(method, path, json=body, headers=store.headers)
    message = f"The {field} field must not contain control characters."
    assert error(response, 422) == message, response.text
    assert json_of(response)["errors"] == {field: [message]}


def test_control_characters_in_a_form_name_are_refused(
    client: TestClient, store: StoreFixture
) -> None:
    body = {"fields": [{"name": "message", "value": "hi"}]}
    response = client.post(
        "/v1/forms/a%0D%0Ab/submissions", json=body, headers=store.client_headers()
    )
    assert error(response, 422) == "The form name must not contain control characters."
