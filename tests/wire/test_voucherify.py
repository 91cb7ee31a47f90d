"""Voucherify's client-side custom event: the document's example, the answer, identity,
validation messages in Voucherify's error shape, the client credential, CORS, tenancy."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import Event
from cartwheel.wire.voucherify.errors import ALLOWED_HEADERS
from cartwheel.wire.voucherify.schemas import DOCUMENT_EXAMPLE, EXAMPLES
from tests.conftest import StoreFixture, json_of

PATH = "/client/v1/events"


def send(client: TestClient, store: StoreFixture, body: Any, origin: str | None = None) -> Response:
    return client.post(PATH, json=body, headers=store.client_headers(origin))


def ok(client: TestClient, store: StoreFixture, body: Any) -> dict[str, Any]:
    response = send(client, store, body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def events(db: Database, store: StoreFixture) -> list[Event]:
    with db.read() as session:
        rows = session.scalars(
            select(Event).where(Event.store_id == store.store_id).order_by(Event.id)
        )
        return list(rows)


def assert_error(response: Response, status: int, key: str, message: str, details: str) -> None:
    assert response.status_code == status, response.text
    body = json_of(response)
    assert body.pop("request_id").startswith("v-")
    assert body == {"code": status, "key": key, "message": message, "details": details}


# -- the document -----------------------------------------------------------------------------


def test_the_document_example(client: TestClient, db: Database, store: StoreFixture) -> None:
    result = ok(client, store, copy.deepcopy(DOCUMENT_EXAMPLE))
    customer_id = result["customer"].pop("id")
    assert uuid.UUID(customer_id)
    assert result == {
        "object": "event",
        "type": "user_subscribed",
        "customer": {
            "name": None,
            "email": None,
            "source_id": "source_customer_event",
            "metadata": {},
            "object": "customer",
        },
        "referral": None,
        "loyalty": None,
        "metadata": {"login": "bob", "pricing_plan": "PP1", "volume_number": 4},
    }
    (stored,) = events(db, store)
    assert stored.name == "user_subscribed" and stored.source == "voucherify"
    assert stored.properties == {"login": "bob", "pricing_plan": "PP1", "volume_number": 4}
    assert stored.property_types == {
        "login": "string",
        "pricing_plan": "string",
        "volume_number": "number",
    }
    assert stored.extra == {
        "$referral": {"code": "46jL0kYI", "referrer_id": "cust_Vzck5i8U3OhcEUFY6MKhN9Rv"}
    }


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_documented_example_is_accepted(
    client: TestClient, store: StoreFixture, name: str
) -> None:
    result = ok(client, store, copy.deepcopy(EXAMPLES[name]["value"]))
    assert result["object"] == "event" and result["customer"]["object"] == "customer"


def test_the_answer_shows_the_customer_as_stored(client: TestClient, store: StoreFixture) -> None:
    """As in the document's response example: an event that names the customer only by
    `source_id` answers with the name, email and metadata known from earlier."""
    first = ok(
        client,
        store,
        {
            "event": "signed_up",
            "customer": {
                "source_id": "source_customer_event",
                "name": "John Doe",
                "email": "John@Voucherify.io",
                "metadata": {"prop": "value"},
            },
        },
    )
    later = ok(
        client,
        store,
        {"event": "cart_abandoned", "customer": {"source_id": "source_customer_event"}},
    )
    assert later["type"] == "cart_abandoned"
    assert later["customer"] == {
        "id": first["customer"]["id"],
        "name": "John Doe",
        "email": "john@voucherify.io",
        "source_id": "source_customer_event",
        "metadata": {"prop": "value"},
        "object": "customer",
    }
    assert later["metadata"] == {}
    by_id = ok(client, store, {"event": "x", "customer": {"id": first["customer"]["id"]}})
    assert by_id["customer"]["source_id"] == "source_customer_event"


def test_customer_id_wins_over_source_id_then_email(
    client: TestClient, store: StoreFixture
) -> None:
    ann = ok(client, store, {"event": "a", "customer": {"source_id": "ann", "email": "a@x.io"}})
    bob = ok(client, store, {"event": "a", "customer": {"source_id": "bob", "email": "b@x.io"}})
    ann_id, bob_id = ann["customer"]["id"], bob["customer"]["id"]
    assert ann_id != bob_id
    by_id = ok(client, store, {"event": "b", "customer": {"id": ann_id, "source_id": "bob"}})
    assert by_id["customer"]["id"] == ann_id
    by_source = ok(
        client, store, {"event": "b", "customer": {"source_id": "bob", "email": "a@x.io"}}
    )
    assert by_source["customer"]["id"] == bob_id
    by_email = ok(client, store, {"event": "b", "customer": {"email": "A@X.io"}})
    assert by_email["customer"]["id"] == ann_id
    by_phone = ok(client, store, {"event": "b", "customer": {"email": "c@x.io", "phone": "x"}})
    assert by_phone["customer"]["id"] not in (ann_id, bob_id)


def test_address_and_name_patch_the_customer(client: TestClient, store: StoreFixture) -> None:
    ok(
        client,
        store,
        {
            "event": "a",
            "customer": {
                "email": "addr@x.io",
                "name": "Ann Addr",
                "address": {"city": "Oslo", "line_1": "Main st 1", "postal_code": "0150"},
            },
        },
    )
    contact = json_of(
        client.get("/v1/contacts", params={"email": "addr@x.io"}, headers=store.headers)
    )
    assert (contact["name"], contact["city"], contact["address"], contact["zip"]) == (
        "Ann Addr",
        "Oslo",
        "Main st 1",
        "0150",
    )


# -- validation messages ----------------------------------------------------------------------

INVALID: list[tuple[str, Any, str, str, str]] = [
    (
        "event missing",
        {"customer": {"source_id": "s"}},
        "invalid_payload",
        "Invalid payload",
        "Property .event is required.",
    ),
    (
        "event empty",
        {"event": "", "customer": {"source_id": "s"}},
        "invalid_payload",
        "Invalid payload",
        "Property .event must be at least 1 character long.",
    ),
    (
        "event too long",
        {"event": "e" * 301, "customer": {"source_id": "s"}},
        "invalid_payload",
        "Invalid payload",
        "Property .event must be at most 300 characters long.",
    ),
    (
        "event not a string",
        {"event": 1, "customer": {"source_id": "s"}},
        "invalid_payload",
        "Invalid payload",
        "Property .event must be a string.",
    ),
    (
        "customer missing",
        {"event": "e"},
        "missing_customer",
        "Missing customer",
        "Property .customer is required.",
    ),
    (
        "customer null",
        {"event": "e", "customer": None},
        "missing_customer",
        "Missing customer",
        "Property .customer is required.",
    ),
    (
        "customer not an object",
        {"event": "e", "customer": "s"},
        "invalid_payload",
        "Invalid payload",
        "Property .customer must be an object.",
    ),
    (
        "customer without identifier",
        {"event": "e", "customer": {"name": "Ann"}},
        "invalid_customer",
        "Invalid customer",
        "Customer must have an id, a source_id or an email.",
    ),
    (
        "invalid email",
        {"event": "e", "customer": {"email": "nope"}},
        "invalid_customer",
        "Invalid customer",
        "Property .customer.email must be a valid email address.",
    ),
    (
        "email not a string",
        {"event": "e", "customer": {"email": 5}},
        "invalid_payload",
        "Invalid payload",
        "Property .customer.email must be a string.",
    ),
    (
        "metadata not an object",
        {"event": "e", "customer": {"source_id": "s"}, "metadata": [1]},
        "invalid_payload",
        "Invalid payload",
        "Property .metadata must be an object.",
    ),
    (
        "customer metadata not an object",
        {"event": "e", "customer": {"source_id": "s", "metadata": "x"}},
        "invalid_payload",
        "Invalid payload",
        "Property .customer.metadata must be an object.",
    ),
    (
        "referral code not a string",
        {"event": "e", "customer": {"source_id": "s"}, "referral": {"code": 1}},
        "invalid_payload",
        "Invalid payload",
        "Property .referral.code must be a string.",
    ),
    (
        "body not an object",
        [1],
        "invalid_payload",
        "Invalid payload",
        "Request body must be an object.",
    ),
    (
        "NUL character",
        {"event": "a\u0000", "customer": {"source_id": "s"}},
        "invalid_payload",
        "Invalid payload",
        "The string at body.event contains a NUL character.",
    ),
    (
        "too many metadata properties",
        {
            "event": "e",
            "customer": {"source_id": "s"},
            "metadata": {f"k{i}": i for i in range(401)},
        },
        "invalid_payload",
        "Invalid payload",
        "Too many properties: 401 (the limit is 400).",
    ),
]


@pytest.mark.parametrize(
    ("body", "key", "message", "details"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_validation_messages(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    body: Any,
    key: str,
    message: str,
    details: str,
) -> None:
    response = send(client, store, body)
    assert_error(response, 400, key, message, details)
    assert response.headers["Access-Control-Allow-Origin"] == store.allowed_origin
    assert events(db, store) == []


def test_unreadable_bodies(client: TestClient, store: StoreFixture) -> None:
    for content, details in (
        (b"", "Request body is empty."),
        (b"{nope", "Request body is not valid JSON."),
        (b'{"event": 5, "customer": {', "Request body is not valid JSON."),
    ):
        response = client.post(
            PATH,
            content=content,
            headers={**store.client_headers(), "Content-Type": "application/json"},
        )
        assert_error(response, 400, "invalid_payload", "Invalid payload", details)
    huge = client.post(
        PATH,
        content=b" " * (5 * 1024 * 1024 + 1),
        headers={**store.client_headers(), "Content-Type": "application/json"},
    )
    assert_error(
        huge,
        413,
        "query_too_large",
        "Request too large",
        "The request body exceeds the 5242880 byte limit.",
    )


def test_an_unknown_customer_id_is_a_404(client: TestClient, store: StoreFixture) -> None:
    missing = str(uuid.uuid4())
    response = send(client, store, {"event": "e", "customer": {"id": missing}})
    assert_error(
        response, 404, "not_found", "Resource not found", f"Cannot find customer with id {missing}"
    )


# -- the client credential --------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"X-Client-Application-Id": None},
        {"X-Client-Token": None},
        {"X-Client-Token": "cw_ct_wrong"},
        {"X-Client-Application-Id": "cw_app_unknown"},
    ],
    ids=["no application id", "no token", "wrong token", "unknown application"],
)
def test_the_client_credential_is_required(
    client: TestClient, store: StoreFixture, change: dict[str, str | None]
) -> None:
    headers = store.client_headers()
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    response = client.post(PATH, json=DOCUMENT_EXAMPLE, headers=headers)
    assert_error(
        response,
        401,
        "unauthorized",
        "Unauthorized",
        "Missing or invalid client application id or client token.",
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_secret_key_is_not_accepted(client: TestClient, store: StoreFixture) -> None:
    response = client.post(
        PATH, json=DOCUMENT_EXAMPLE, headers={**store.headers, "Origin": store.allowed_origin}
    )
    assert response.status_code == 401
    assert json_of(response)["key"] == "unauthorized"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://shop.example.com",
        "https://shop.example.com.evil.io",
        # Without a scheme (Voucherify's `string<hostname>`), the host still has to match,
        "evil.example.com",
        "shop.example.com.evil.io",
        # and a port the header names must be the allowed origin's (443 for https).
        "shop.example.com:8443",
        "https://shop.example.com:8443",
    ],
)
def test_an_origin_the_credential_does_not_allow_is_refused(
    client: TestClient, db: Database, store: StoreFixture, origin: str
) -> None:
    response = send(client, store, DOCUMENT_EXAMPLE, origin=origin)
    assert_error(
        response,
        403,
        "forbidden",
        "Forbidden",
        "This origin is not allowed for this client application.",
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    headers = store.client_headers()
    headers.pop("Origin")
    assert client.post(PATH, json=DOCUMENT_EXAMPLE, headers=headers).status_code == 403
    assert events(db, store) == []


def test_an_allowed_origin_may_name_a_port(client: TestClient, store: StoreFixture) -> None:
    response = send(client, store, DOCUMENT_EXAMPLE, origin="https://shop.example.com:443")
    assert response.status_code == 200


@pytest.mark.parametrize("origin", ["shop.example.com", "shop.example.com:443", "SHOP.example.com"])
def test_the_origin_header_is_a_hostname_scheme_and_port_optional(
    client: TestClient, db: Database, store: StoreFixture, origin: str
) -> None:
    # Voucherify types `origin` as string<hostname>: a server-side client configured with
    # `shop.example.com` is accepted by a store that allows `https://shop.example.com`.
    response = send(client, store, DOCUMENT_EXAMPLE, origin=origin)
    assert response.status_code == 200, response.text
    assert json_of(response)["object"] == "event"
    assert [e.name for e in events(db, store)] == ["user_subscribed"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/contacts"),
        ("POST", "/v1/events"),
        ("POST", "/v1/events/batch"),
        ("POST", "/api/events"),
        ("POST", "/v5/events"),
        ("POST", "/stores/{store_id}/events"),
    ],
)
def test_the_client_credential_can_do_nothing_else(
    client: TestClient, store: StoreFixture, method: str, path: str
) -> None:
    response = client.request(
        method,
        path.format(store_id=store.store_id),
        json={"event": "x", "name": "x", "contact": {"email": "a@x.io"}},
        headers=store.client_headers(),
    )
    assert response.status_code == 401, response.text


# -- CORS -------------------------------------------------------------------------------------


def preflight(client: TestClient, headers: dict[str, str]) -> Response:
    return client.options(PATH, headers=headers)


@pytest.mark.parametrize("origin", ["https://shop.example.com", "https://unknown.example.org"])
def test_a_preflight_is_answered_alike_for_every_origin(client: TestClient, origin: str) -> None:
    response = preflight(
        client,
        {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-client-application-id,x-client-token",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == ALLOWED_HEADERS
    allowed = {h.strip().lower() for h in ALLOWED_HEADERS.split(",")}
    assert {"content-type", "x-client-application-id", "x-client-token"} <= allowed
    assert response.headers["Vary"] == "Origin"
    assert response.content == b""


@pytest.mark.parametrize(
    "headers",
    [
        {"Access-Control-Request-Method": "POST"},
        {"Origin": "null", "Access-Control-Request-Method": "POST"},
        {"Origin": "ftp://shop.example.com", "Access-Control-Request-Method": "POST"},
        {"Origin": "https://shop.example.com/path", "Access-Control-Request-Method": "POST"},
        {"Origin": "https://shop.example.com", "Access-Control-Request-Method": "DELETE"},
        {"Origin": "https://shop.example.com"},
    ],
    ids=["no origin", "null origin", "not http", "with a path", "other method", "no method"],
)
def test_a_malformed_preflight_is_refused(client: TestClient, headers: dict[str, str]) -> None:
    response = preflight(client, headers)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_answers_to_an_allowed_origin_carry_cors_headers(
    client: TestClient, store: StoreFixture
) -> None:
    response = send(client, store, DOCUMENT_EXAMPLE)
    assert response.headers["Access-Control-Allow-Origin"] == store.allowed_origin
    assert response.headers["Vary"] == "Origin"
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "X-RateLimit-Remaining" in exposed and "Retry-After" in exposed
    assert int(response.headers["X-RateLimit-Limit"]) >= 1


# -- tenancy ----------------------------------------------------------------------------------


def test_another_store_cannot_reach_this_stores_customers(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    mine = ok(client, store, {"event": "a", "customer": {"source_id": "cus-1", "name": "Mine"}})
    response = send(client, other_store, {"event": "b", "customer": {"id": mine["customer"]["id"]}})
    assert_error(
        response,
        404,
        "not_found",
        "Resource not found",
        f"Cannot find customer with id {mine['customer']['id']}",
    )
    theirs = ok(client, other_store, {"event": "b", "customer": {"source_id": "cus-1"}})
    assert theirs["customer"]["id"] != mine["customer"]["id"]
    assert theirs["customer"]["name"] is None
    # One store's credential cannot be used with another store's token.
    mixed = {
        **store.client_headers(),
        "X-Client-Token": other_store.client_token,
    }
    assert client.post(PATH, json=DOCUMENT_EXAMPLE, headers=mixed).status_code == 401
    assert [e.name for e in events(db, store)] == ["a"]
