"""Lindris validation: the document's messages word for word, Laravel's defaults for the
rules it does not spell out, number → string casting, and the non-422 errors (404, 401, 413,
429) in Laravel's ``{"message": ...}`` shape."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.runtime import Runtime
from cartwheel.stores.service import set_rate_limit
from cartwheel.wire.lindris.requests import EVENT_TYPES
from cartwheel.wire.lindris.validation import display_name
from tests.conftest import StoreFixture, json_of
from tests.wire.lindris_helpers import (
    accepted,
    contact_by_uuid,
    invalid,
    post,
    stored_events,
)

EMAIL_REQUIRED = "The email field is required when reference id is not present."

#: The document's 422 examples, as printed.
GENERIC_INVALID = {
    "eventName": ["The event name field is required."],
    "source": ["The source field is required."],
    "email": [EMAIL_REQUIRED],
}
LIFECYCLE_INVALID = {
    "source": ["The source field is required."],
    "id": ["The id field is required."],
    "email": [EMAIL_REQUIRED],
}

GENERIC = {"eventName": "viewed_page", "email": "ann@example.com", "source": "woocommerce"}
CART = {"email": "ann@example.com", "source": "woocommerce"}
ORDER = {"email": "ann@example.com", "source": "woocommerce", "id": "order_1"}
PRODUCT = {"email": "ann@example.com", "source": "woocommerce", "id": "prod_1"}
CUSTOMER = {"email": "ann@example.com", "source": "woocommerce", "id": "cust_1"}


def test_generic_empty_body_gets_the_documented_422(
    client: TestClient, store: StoreFixture
) -> None:
    errors = invalid(post(client, store, "/api/events", {}))
    assert errors == GENERIC_INVALID
    assert list(errors) == list(GENERIC_INVALID)  # the document's order, too


@pytest.mark.parametrize("kind", ["product", "order", "customer", "user", "subscription"])
def test_lifecycle_empty_body_gets_the_documented_422(
    client: TestClient, store: StoreFixture, kind: str
) -> None:
    errors = invalid(post(client, store, f"/api/events/{kind}/created", {}))
    assert errors == LIFECYCLE_INVALID
    assert list(errors) == list(LIFECYCLE_INVALID)


def test_cart_id_is_optional_as_its_field_list_says(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    errors = invalid(post(client, store, "/api/events/cart/abandoned", {}))
    assert errors == {k: v for k, v in LIFECYCLE_INVALID.items() if k != "id"}
    accepted(post(client, store, "/api/events/cart/abandoned", CART))
    (event,) = stored_events(db, store)
    assert (event.name, event.entity) == ("cart_abandoned", {})


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2]", b'"text"'],
    ids=["malformed", "empty", "list", "scalar"],
)
def test_a_body_that_is_not_a_json_object_is_no_input(
    client: TestClient, store: StoreFixture, body: bytes
) -> None:
    # Laravel reads such a body as no input at all: the 422 lists the required fields.
    assert invalid(post(client, store, "/api/events", body)) == GENERIC_INVALID


@pytest.mark.parametrize(
    "identity",
    [{"referenceId": "cust_1"}, {"referenceId": 42}, {"email": "ann@example.com"}],
    ids=["referenceId", "numeric-referenceId", "email"],
)
def test_email_or_reference_id_satisfies_the_identity_rule(
    client: TestClient, store: StoreFixture, identity: dict[str, Any]
) -> None:
    accepted(post(client, store, "/api/events", {"eventName": "x", "source": "s", **identity}))


def test_blank_strings_count_as_missing_and_strings_are_trimmed(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    # Laravel's TrimStrings and ConvertEmptyStringsToNull run before validation.
    blank = {"eventName": "  ", "source": "", "email": " ", "referenceId": ""}
    assert invalid(post(client, store, "/api/events", blank)) == GENERIC_INVALID
    body = {"eventName": " viewed ", "source": " woo ", "email": " Ann@Example.com "}
    answer = accepted(post(client, store, "/api/events", body))
    (event,) = stored_events(db, store)
    assert (event.name, event.source) == ("viewed", "woo")
    assert contact_by_uuid(client, store, answer["uuid"])["email"] == "ann@example.com"


NESTED_REQUIRED = [
    (
        "/api/events/order/created",
        {**ORDER, "products": [{"id": "p1", "name": "Shirt"}, {}]},
        {
            "products.1.id": ["The products.1.id field is required."],
            "products.1.name": ["The products.1.name field is required."],
        },
    ),
    (
        "/api/events/cart/updated",
        {**CART, "products": [{"name": "Shirt"}]},
        {"products.0.id": ["The products.0.id field is required."]},
    ),
    (
        "/api/events/subscription/renewed",
        {**ORDER, "products": [{"id": 5}]},
        {"products.0.name": ["The products.0.name field is required."]},
    ),
    (
        "/api/events/product/updated",
        {**PRODUCT, "variants": [{"id": "v1"}, {"sku": "TSH-001-L"}]},
        {"variants.1.id": ["The variants.1.id field is required."]},
    ),
]


@pytest.mark.parametrize(("path", "body", "errors"), NESTED_REQUIRED)
def test_required_members_of_list_items(
    client: TestClient,
    store: StoreFixture,
    path: str,
    body: dict[str, Any],
    errors: dict[str, list[str]],
) -> None:
    assert invalid(post(client, store, path, body)) == errors


#: (path, base body, field, value, error key, Laravel's default message).
TYPE_RULES = [
    ("/api/events", GENERIC, "source", 123, "source", "The source must be a string."),
    ("/api/events", GENERIC, "eventName", ["a"], "eventName", "The event name must be a string."),
    (
        "/api/events",
        GENERIC,
        "eventName",
        "x" * 301,
        "eventName",
        "The event name must not be greater than 300 characters.",
    ),
    (
        "/api/events",
        GENERIC,
        "email",
        "not-an-email",
        "email",
        "The email must be a valid email address.",
    ),
    ("/api/events", GENERIC, "uuid", "abc", "uuid", "The uuid must be a valid UUID."),
    (
        "/api/events",
        GENERIC,
        "referenceId",
        True,
        "referenceId",
        "The reference id must be a string.",
    ),
    (
        "/api/events",
        GENERIC,
        "silent",
        "yes",
        "silent",
        "The silent field must be true or false.",
    ),
    ("/api/events", GENERIC, "test", 2, "test", "The test field must be true or false."),
    (
        "/api/events",
        GENERIC,
        "properties",
        "color=red",
        "properties",
        "The properties must be an array.",
    ),
    (
        "/api/events/cart/created",
        CART,
        "occurredAt",
        "the day before yesterday",
        "occurredAt",
        "The occurred at is not a valid date.",
    ),
    (
        "/api/events/order/created",
        ORDER,
        "occurred_at",
        "2024-13-45T99:00:00Z",
        "occurred_at",
        "The occurred at is not a valid date.",
    ),
    ("/api/events/cart/created", CART, "total", "lots", "total", "The total must be a number."),
    ("/api/events/cart/created", CART, "total", 10**400, "total", "The total must be a number."),
    (
        "/api/events/cart/created",
        CART,
        "total_products",
        2**63,
        "total_products",
        "The total products must be an integer.",
    ),
    (
        "/api/events/cart/created",
        CART,
        "total_products",
        1.5,
        "total_products",
        "The total products must be an integer.",
    ),
    (
        "/api/events/cart/created",
        CART,
        "products",
        "shirt",
        "products",
        "The products must be an array.",
    ),
    (
        "/api/events/cart/created",
        CART,
        "products",
        ["shirt"],
        "products.0",
        "The products.0 must be an array.",
    ),
    (
        "/api/events/cart/created",
        CART,
        "products",
        [{"id": "p", "name": "n", "image_url": 5}],
        "products.0.image_url",
        "The products.0.image_url must be a string.",
    ),
    (
        "/api/events/cart/created",
        CART,
        "products",
        [{"id": "p", "name": "n", "quantity": "two"}],
        "products.0.quantity",
        "The products.0.quantity must be an integer.",
    ),
    (
        "/api/events/order/created",
        ORDER,
        "billing_address",
        "123 Main St",
        "billing_address",
        "The billing address must be an array.",
    ),
    (
        "/api/events/order/created",
        ORDER,
        "billing_address",
        {"postal_code": 10001},
        "billing_address.postal_code",
        "The billing address.postal code must be a string.",
    ),
    (
        "/api/events/order/created",
        ORDER,
        "publicId",
        {"n": 1},
        "publicId",
        "The public id must be a string.",
    ),
    (
        "/api/events/product/created",
        PRODUCT,
        "categories",
        ["Clothing", 7],
        "categories.1",
        "The categories.1 must be a string.",
    ),
    (
        "/api/events/product/created",
        PRODUCT,
        "price",
        True,
        "price",
        "The price must be a number.",
    ),
    (
        "/api/events/customer/created",
        CUSTOMER,
        "customer_email",
        "john at example",
        "customer_email",
        "The customer email must be a valid email address.",
    ),
    (
        "/api/events/customer/created",
        CUSTOMER,
        "is_contact",
        "true",
        "is_contact",
        "The is contact field must be true or false.",
    ),
    (
        "/api/events/customer/created",
        CUSTOMER,
        "user",
        {"email": "nope"},
        "user.email",
        "The user.email must be a valid email address.",
    ),
    (
        "/api/events/customer/created",
        CUSTOMER,
        "subscriptions",
        [{"plan_interval_count": "monthly"}],
        "subscriptions.0.plan_interval_count",
        "The subscriptions.0.plan_interval_count must be an integer.",
    ),
    (
        "/api/events/user/created",
        {**CUSTOMER, "id": "user_1"},
        "last_login",
        "not a date",
        "last_login",
        "The last login is not a valid date.",
    ),
]


@pytest.mark.parametrize(
    ("path", "base", "field", "value", "key", "message"),
    TYPE_RULES,
    ids=[f"{rule[2]}-{rule[4]}" for rule in TYPE_RULES],
)
def test_rule_messages(
    client: TestClient,
    store: StoreFixture,
    path: str,
    base: dict[str, Any],
    field: str,
    value: Any,
    key: str,
    message: str,
) -> None:
    assert invalid(post(client, store, path, {**base, field: value})) == {key: [message]}


def test_every_error_is_reported_at_once(client: TestClient, store: StoreFixture) -> None:
    body = {"source": 1, "id": "o", "total": "x", "products": [{"id": 1}], "silent": "no"}
    assert invalid(post(client, store, "/api/events/order/created", body)) == {
        "source": ["The source must be a string."],
        "products.0.name": ["The products.0.name field is required."],
        "total": ["The total must be a number."],
        "silent": ["The silent field must be true or false."],
        "email": [EMAIL_REQUIRED],
    }


def test_numeric_values_are_cast_to_strings(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {
        "referenceId": 123456,
        "source": "woocommerce",
        "id": 1001,
        "publicId": 1001.0,
        "products": [{"id": 55, "name": "Shirt", "variant_id": 7, "price": "29.99"}],
        "total": "59.98",
        "shipping": 0,
    }
    answer = accepted(post(client, store, "/api/events/order/completed", body))
    assert contact_by_uuid(client, store, answer["uuid"])["externalIds"] == ["123456"]
    (event,) = stored_events(db, store)
    assert event.entity is not None
    assert (event.entity["id"], event.entity["number"]) == ("1001", "1001")
    assert event.entity["items"] == [
        {"product_id": "55", "variant_id": "7", "name": "Shirt", "price": 29.99}
    ]
    # numeric strings pass Laravel's ``numeric`` and are stored as numbers
    assert event.entity["total"] == 59.98 and event.value == 59.98
    assert event.properties["id"] == "1001"


def test_customer_and_user_mixed_ids_are_cast(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    customer = {
        **CUSTOMER,
        "id": 9,
        "user_id": 42,
        "public_id": 7,
        "plan_id": 3,
        "user": {"id": 42},
        "subscriptions": [{"plan_id": 3, "plan_amount": "19.99"}],
    }
    accepted(post(client, store, "/api/events/customer/updated", customer))
    product = {**PRODUCT, "id": 77, "variants": [{"id": 1, "options": ["L", "Red"]}]}
    accepted(post(client, store, "/api/events/product/created", product))
    first, second = stored_events(db, store)
    assert first.properties["user_id"] == "42" and first.properties["public_id"] == "7"
    assert first.properties["plan_id"] == "3"
    assert first.extra["user"] == {"id": "42"}
    assert first.extra["subscriptions"] == [{"plan_id": "3", "plan_amount": 19.99}]
    assert second.entity is not None and second.entity["id"] == "77"
    assert second.entity["variants"] == [{"id": "1", "options": ["L", "Red"]}]


def test_undocumented_fields_are_dropped(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {
        **PRODUCT,
        "name": "Shirt",
        "internal_note": "secret",
        "variants": [{"id": "v", "x": 1}],
    }
    accepted(post(client, store, "/api/events/product/created", body))
    (event,) = stored_events(db, store)
    assert "internal_note" not in event.properties
    assert event.entity is not None and event.entity["variants"] == [{"id": "v"}]


# -- routing, auth and limits -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/events/invoice/created",
        "/api/events/cart/deleted",
        "/api/events/subscription/paused",
        "/api/events/cart",
        "/api/events/order/created/again",
        "/api/events/cart/",
    ],
)
def test_unknown_type_or_action_is_laravels_404(
    client: TestClient, store: StoreFixture, path: str
) -> None:
    for headers in (store.headers, {}):  # routing answers before the key is checked
        response = client.post(path, json=ORDER, headers=headers)
        assert response.status_code == 404
        assert json_of(response) == {"message": f"The route {path.strip('/')} could not be found."}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer cw_sk_not-a-key"}, {"Authorization": "Basic abc"}],
    ids=["missing", "unknown", "not-bearer"],
)
def test_without_a_valid_secret_key_is_unauthenticated(
    client: TestClient, headers: dict[str, str]
) -> None:
    for path in ("/api/events", "/api/events/order/created"):
        response = client.post(path, json=ORDER, headers=headers)
        assert response.status_code == 401
        assert json_of(response) == {"message": "Unauthenticated."}


def test_a_client_credential_is_not_a_secret_key(client: TestClient, store: StoreFixture) -> None:
    response = client.post("/api/events", json=GENERIC, headers=store.client_headers())
    assert response.status_code == 401


def test_a_body_over_the_limit_is_413(
    client: TestClient, db: Database, runtime: Runtime, store: StoreFixture
) -> None:
    limit = runtime.settings.max_body_bytes
    body = b'{"eventName": "' + b"x" * limit + b'", "source": "s", "email": "a@b.c"}'
    response = post(client, store, "/api/events", body)
    assert response.status_code == 413
    assert set(json_of(response)) == {"message"}
    assert stored_events(db, store) == []


def test_a_string_over_the_limit_is_refused(
    client: TestClient, db: Database, runtime: Runtime, store: StoreFixture
) -> None:
    long = "x" * (runtime.settings.max_string_bytes + 1)
    response = post(client, store, "/api/events", {**GENERIC, "properties": {"note": long}})
    assert response.status_code == 400
    assert set(json_of(response)) == {"message"}
    assert stored_events(db, store) == []


def test_rate_limited_requests_get_429_with_headers(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    with db.transaction() as session:
        set_rate_limit(session, store.store_id, 1)
    first = post(client, store, "/api/events", GENERIC)
    accepted(first)
    assert first.headers["X-RateLimit-Limit"] == "1"
    assert first.headers["X-RateLimit-Remaining"] == "0"
    response = post(client, store, "/api/events/order/created", ORDER)
    assert response.status_code == 429
    assert json_of(response) == {"message": "Too Many Attempts."}
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == "1"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) > 0
    assert len(stored_events(db, store)) == 1


def _typed_fields(kinds: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(path, type, field) for every top-level field of these kinds of every lifecycle type."""
    return [
        (f"/api/events/{name}/{event_type.actions[0]}", name, spec.name)
        for name, event_type in EVENT_TYPES.items()
        for spec in event_type.fields
        if spec.kind in kinds and not spec.required
    ]


_BASES = {"cart": CART, "product": PRODUCT, "customer": CUSTOMER, "user": CUSTOMER}
_MESSAGES = {"number": "must be a number.", "integer": "must be an integer."}
_MESSAGES |= {"string": "must be a string.", "date": "must be a string."}
_MESSAGES |= {"boolean": "field must be true or false."}


@pytest.mark.parametrize("empty", [[], {}], ids=["list", "object"])
@pytest.mark.parametrize(
    ("path", "event_type", "field"),
    _typed_fields(("number", "integer", "string", "date", "boolean")),
)
def test_an_empty_array_is_a_wrong_type_not_a_missing_value(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    path: str,
    event_type: str,
    field: str,
    empty: Any,
) -> None:
    # Laravel validates a present empty array (only empty strings become null): ``total:
    # []`` was stored as an order total of 0.
    (spec,) = [s for s in EVENT_TYPES[event_type].fields if s.name == field]
    base = _BASES.get(event_type, ORDER)
    errors = invalid(post(client, store, path, {**base, field: empty}))
    assert errors == {field: [f"The {display_name(field)} {_MESSAGES[spec.kind]}"]}
    assert stored_events(db, store) == []


CURRENCIES = [
    (path, event_type, field)
    for path, event_type, field in _typed_fields(("string",))
    if field == "currency"
]


@pytest.mark.parametrize("code", ["A\r\nX-INJ", "US", "USDX", "U$D", "12A"])
@pytest.mark.parametrize(("path", "event_type", "field"), CURRENCIES)
def test_a_currency_is_a_three_letter_code(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    path: str,
    event_type: str,
    field: str,
    code: str,
) -> None:
    base = _BASES.get(event_type, ORDER)
    errors = invalid(post(client, store, path, {**base, field: code}))
    assert errors == {"currency": ["The currency format is invalid."]}
    assert stored_events(db, store) == []
    accepted(post(client, store, path, {**base, field: "eur"}))


def test_a_nested_currency_is_a_three_letter_code(client: TestClient, store: StoreFixture) -> None:
    body = {**CUSTOMER, "subscriptions": [{"currency": "A\r\nX-INJ"}]}
    assert invalid(post(client, store, "/api/events/customer/created", body)) == {
        "subscriptions.0.currency": ["The subscriptions.0.currency format is invalid."]
    }
