"""Every example request of the Lindris document, sent as printed (``test: true``: answered,
nothing stored) and without ``test`` (stored, silently, with its record), plus the OpenAPI
document of the endpoints."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.wire.lindris import examples
from tests.conftest import StoreFixture
from tests.wire.lindris_helpers import (
    accepted,
    by_email,
    contact_by_uuid,
    contact_events,
    contacts,
    post,
    stored_events,
)

DOCUMENTED = [
    pytest.param("/api/events", examples.GENERIC, id="generic"),
    *(
        pytest.param(f"/api/events/{kind}/{action}", body, id=f"{kind}-{action}")
        for (kind, action), body in examples.LIFECYCLE.items()
    ),
]

WHEN = datetime(2024, 3, 21, 15, 30, tzinfo=UTC)
ADDRESS = {
    "first_name": "John",
    "last_name": "Doe",
    "company": "Acme Inc",
    "address1": "123 Main St",
    "address2": "Suite 100",
    "city": "New York",
    "state": "NY",
    "zip": "10001",
    "country": "US",
    "phone": "+1234567890",
}

#: What each documented lifecycle example stores: (name, occurred_at, entity, value, currency).
STORED: dict[str, tuple[str, datetime | None, dict[str, Any], float | None, str | None]] = {
    "cart": (
        "cart_created",
        WHEN,
        {
            "id": "cart_123456",
            "total": 59.98,
            "total_products": 2,
            "currency": "USD",
            "url": "https://store.example.com/cart",
            "modified_at": "2024-03-21T15:30:00Z",
        },
        59.98,
        "USD",
    ),
    "product": (
        "product_viewed",
        None,
        {
            "id": "prod_123456",
            "name": "Awesome T-Shirt",
            "description": "A really awesome t-shirt",
            "url": "https://store.example.com/products/awesome-tshirt",
            "image_url": "https://store.example.com/images/awesome-tshirt.jpg",
            "price": 29.99,
            "currency": "USD",
            "sku": "TSH-001",
            "barcode": "123456789",
            "categories": ["Clothing", "T-Shirts"],
            "tags": ["summer", "sale"],
            "vendor": "Awesome Brand",
            "brand": "Awesome Brand",
            "type": "T-Shirt",
            "created_at": "2024-03-21T15:30:00Z",
            "modified_at": "2024-03-21T15:30:00Z",
        },
        None,
        None,
    ),
    "order": (
        "order_created",
        WHEN,
        {
            "id": "order_123456",
            "number": "#1001",
            "status": "completed",
            "currency": "USD",
            "total": 99.99,
            "total_tax": 8.5,
            "total_discounts": 10,
            "total_shipping": 5.99,
            "payment_method": "stripe",
            "url": "https://store.example.com/order/1001",
            "billing_address": ADDRESS,
            "shipping_address": ADDRESS,
        },
        99.99,
        "USD",
    ),
    "customer": (
        "customer_created",
        WHEN,
        {
            "id": "cust_123456",
            "status": "active",
            "url": "https://store.example.com/customers/123",
            "avatar_url": "https://store.example.com/avatars/john-doe.jpg",
            "purchase_count": 5,
            "purchase_value": 299.95,
            "created_at": "2024-03-21T15:30:00Z",
            "modified_at": "2024-03-21T15:30:00Z",
        },
        None,
        None,
    ),
    "user": (
        "user_created",
        WHEN,
        {
            "id": "user_123456",
            "username": "johndoe",
            "role": "subscriber",
            "status": "active",
            "url": "https://example.com/users/johndoe",
            "avatar_url": "https://example.com/avatars/johndoe.jpg",
            "created_at": "2024-03-21T15:30:00Z",
            "modified_at": "2024-03-21T15:30:00Z",
            "last_login": "2024-03-21T15:30:00Z",
        },
        None,
        None,
    ),
    "subscription": (
        "subscription_created",
        None,
        {
            "id": "sub_123456",
            "url": "https://store.example.com/my-account/subscriptions/123456",
            "currency": "USD",
        },
        None,
        None,
    ),
}


@pytest.mark.parametrize(("path", "body"), DOCUMENTED)
def test_documented_example_as_printed_answers_and_stores_nothing(
    client: TestClient, db: Database, store: StoreFixture, path: str, body: dict[str, Any]
) -> None:
    response = post(client, store, path, body)
    answer = accepted(response)
    # The document's success response exactly: the person is not known yet, so no uuid.
    assert set(answer) == {"success", "timestamp"}
    assert abs(answer["timestamp"] - time.time()) < 60
    assert contacts(client, store) == []
    assert stored_events(db, store) == []


@pytest.mark.parametrize(("path", "body"), DOCUMENTED)
def test_documented_example_without_test_is_stored_silently(
    client: TestClient, db: Database, store: StoreFixture, path: str, body: dict[str, Any]
) -> None:
    real = {k: v for k, v in body.items() if k != "test"}
    answer = accepted(post(client, store, path, real))
    contact = contact_by_uuid(client, store, answer["uuid"])
    # The document's uuid belongs to no contact of this store: referenceId resolves.
    assert answer["uuid"] != body["uuid"]
    assert contact["externalIds"] == ["cust_123456"]
    assert contact["source"] == body["source"]
    (event,) = stored_events(db, store)
    assert event.contact_id == contact["id"] and event.silent is True
    (listed,) = contact_events(client, store, contact["id"])
    assert listed["id"] == str(event.id)
    if path == "/api/events":
        assert (event.name, event.category, event.entity) == ("clicked_home_cta", None, None)
        assert event.properties == {} and event.extra == {}
        return
    kind = path.split("/")[3]
    name, occurred_at, entity, value, currency = STORED[kind]
    assert (event.name, event.category, event.action) == (name, kind, path.split("/")[4])
    assert event.entity == entity
    assert (event.value, event.currency) == (value, currency)
    if occurred_at is not None:
        assert event.occurred_at == occurred_at
    else:
        assert abs((event.occurred_at - event.received_at).total_seconds()) < 1
    # Identity and flags are not properties; every other scalar field is.
    for control in ("referenceId", "uuid", "source", "silent", "email", "is_contact"):
        assert control not in event.properties
    assert event.properties["id"] == body["id"]


def test_documented_order_keeps_scalars_as_properties_and_nested_as_extra(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {k: v for k, v in examples.LIFECYCLE[("order", "created")].items() if k != "test"}
    accepted(post(client, store, "/api/events/order/created", body))
    (event,) = stored_events(db, store)
    assert event.properties["publicId"] == "#1001"
    assert event.properties["total"] == 99.99
    assert event.property_types["total"] == "number"
    assert "occurred_at" not in event.properties
    assert event.extra["billing_address"]["label"] == "Home"
    assert event.extra["shipping_address"]["label"] == "Office"


def test_documented_user_example_syncs_the_contact(client: TestClient, store: StoreFixture) -> None:
    body = {k: v for k, v in examples.LIFECYCLE[("user", "created")].items() if k != "test"}
    answer = accepted(post(client, store, "/api/events/user/created", body))
    contact = by_email(client, store, "john@example.com")
    assert contact is not None
    assert contact["uuid"] == answer["uuid"]
    assert (contact["firstName"], contact["lastName"], contact["name"]) == (
        "John",
        "Doe",
        "John Doe",
    )
    assert contact["source"] == "wordpress"


def test_documented_customer_example_attaches_the_phone(
    client: TestClient, store: StoreFixture
) -> None:
    body = {k: v for k, v in examples.LIFECYCLE[("customer", "created")].items() if k != "test"}
    answer = accepted(post(client, store, "/api/events/customer/created", body))
    (contact,) = contacts(client, store, phone="+1-555-123-4567")
    assert contact["uuid"] == answer["uuid"]
    # Without is_contact the customer's fields stay on the event, not the contact.
    assert contact["firstName"] is None and contact["email"] is None


def test_openapi_documents_every_endpoint_with_its_body_and_example(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    paths = {
        "/api/events": ("LindrisGenericEvent", examples.GENERIC),
        **{
            f"/api/events/{kind}/{{action}}": (f"Lindris{kind.title()}Event", body)
            for (kind, _action), body in examples.LIFECYCLE.items()
        },
    }
    for path, (model, example) in paths.items():
        operation = document["paths"][path]["post"]
        content = operation["requestBody"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{model}"}
        # (the OpenAPI document leaves out null values, like the generic example's properties)
        documented = {k: v for k, v in example.items() if v is not None}
        assert content["examples"]["documented"]["value"] == documented
        assert {"200", "401", "404", "413", "422", "429"} <= set(operation["responses"])
        assert "X-RateLimit-Reset" in operation["responses"]["429"]["headers"]
        required = schemas[model].get("required", [])
        assert "source" in required
    assert schemas["LindrisOrderEvent"]["required"] == ["source", "id"]
    assert schemas["LindrisCartEvent"]["required"] == ["source"]
    assert schemas["LindrisOrderEventProducts"]["required"] == ["id", "name"]
    action = document["paths"]["/api/events/subscription/{action}"]["post"]["parameters"][0]
    assert action["schema"]["enum"] == [
        "created",
        "updated",
        "deleted",
        "renewed",
        "cancelled",
        "expired",
        "renewal_failed",
    ]
    # Every documented field has a description: the OpenAPI document is the manual.
    for name, schema in schemas.items():
        if name.startswith("Lindris"):
            for field, spec in schema.get("properties", {}).items():
                assert spec.get("description"), (name, field)
