"""Order events become orders: upsert by the store's order id, status from the action,
replay idempotence, tenancy."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import Event, Order, PendingEvent
from cartwheel.records.processor import process_event
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.records.lifecycle import at, lifecycle, outbox, submit

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
    "email": "john@example.com",
}

ORDER: dict[str, Any] = {
    "id": "order_1001",
    "number": "#1001",
    "status": "processing",
    "currency": "usd",
    "total": 99.99,
    "subtotal": 84.98,
    "total_tax": 8.5,
    "total_discounts": 10,
    "total_shipping": 5.99,
    "discount_codes": [{"code": "SUMMER20", "amount": 10, "type": "percentage"}],
    "items": [
        {
            "product_id": "prod_123",
            "variant_id": "var_1",
            "name": "Awesome T-Shirt",
            "variant_name": "Large",
            "sku": "TSH-001",
            "url": "https://store.example.com/p/tshirt",
            "price": 29.99,
            "quantity": 2,
            "total": 59.98,
            "weight": 0.2,
        },
        {"product_id": "prod_456", "name": "Mug", "price": 25, "quantity": 1},
    ],
    "billing_address": ADDRESS,
    "shipping_address": {**ADDRESS, "address2": "Floor 2"},
    "shipping_method": "UPS Ground",
    "payment_method": "stripe",
    "note": "Leave at the door",
    "url": "https://store.example.com/order/1001",
    "tags": ["vip"],
    "created_at": "2026-03-01T10:00:00Z",
}

API_ADDRESS = {
    "name": "John Doe",
    "phone": "+1234567890",
    "companyName": "Acme Inc",
    "companyId": None,
    "country": "US",
    "state": "NY",
    "city": "New York",
    "zipCode": "10001",
    "address": "123 Main St",
    "address2": "Suite 100",
}


def order_event(
    store: StoreFixture, action: str, entity: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    return lifecycle(store.store_id, "order", action, entity or ORDER, **kwargs)


def only_order(client: TestClient, store: StoreFixture) -> dict[str, Any]:
    body = client.get("/v1/orders", headers=store.headers).json()
    assert body["totalCount"] == 1, body
    order: dict[str, Any] = body["items"][0]
    return order


def test_created_event_makes_the_order_in_the_api_shape(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    (result,) = submit(runtime, worker, order_event(store, "created", at=at(2)))
    order = only_order(client, store)
    items = order.pop("items")
    assert order == {
        "id": order["id"],
        "invoiceNo": 1001,
        "created": int(at(1, 10).timestamp()),
        "customerName": "John Doe",
        "customerEmail": "john@example.com",
        "contactId": result.contact_id,
        "memberId": 0,
        "shippingAddress": {**API_ADDRESS, "address2": "Floor 2"},
        "billingAddress": API_ADDRESS,
        "shippingRequired": True,
        "weight": 0.4,
        "weightUnit": "kg",
        "subTotal": 84.98,
        "total": 99.99,
        "discountCode": "SUMMER20",
        "discountType": "percent_discount",
        "discountAmount": 10,
        "shippingName": "UPS Ground",
        "shippingAmount": 5.99,
        "paid": False,
        "paymentMethod": "stripe",
        "transactionId": None,
        "status": "pending",
        "taxes": [
            {
                "name": "Tax",
                "total": 8.5,
                "applyToShipping": False,
                "rate": None,
                "type": None,
                "appliedToItems": [],
            }
        ],
        "tags": ["vip"],
        "additionalFields": [],
        "notes": [{"time": int(at(2).timestamp()), "value": "Leave at the door"}],
    }
    assert items == [
        {
            "id": items[0]["id"],
            "name": "Awesome T-Shirt",
            "url": "https://store.example.com/p/tshirt",
            "productId": 0,
            "type": "physical",
            "sku": "TSH-001",
            "quantity": 2,
            "total": 59.98,
            "weight": 0.2,
            "width": 0,
            "height": 0,
            "length": 0,
            "shippingRequired": True,
            "variation": [{"name": "Variant", "value": "Large"}],
            "additions": [],
        },
        {
            "id": items[1]["id"],
            "name": "Mug",
            "url": None,
            "productId": 0,
            "type": "physical",
            "sku": None,
            "quantity": 1,
            "total": 25,
            "weight": 0,
            "width": 0,
            "height": 0,
            "length": 0,
            "shippingRequired": True,
            "variation": [],
            "additions": [],
        },
    ]
    (message,) = outbox(db, store.store_id, "order_created")
    assert message.payload == {**order, "items": items}
    with db.read() as session:
        row = session.scalars(select(Order).where(Order.store_id == store.store_id)).one()
        assert (row.external_id, row.platform_status, row.currency) == (
            "order_1001",
            "processing",
            "USD",
        )


def test_updated_event_finds_the_same_order_by_the_stores_id(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    submit(runtime, worker, order_event(store, "created", at=at(2)))
    before = only_order(client, store)
    changed = {
        "id": "order_1001",
        "total": 59.98,
        "items": [{**ORDER["items"][0], "quantity": 1, "total": 29.99}],
        "note": "Ring twice",
    }
    submit(runtime, worker, order_event(store, "updated", changed, at=at(3)))
    after = only_order(client, store)
    assert after["id"] == before["id"]
    assert after["total"] == 59.98
    # Lines are updated in place (same id); the line no longer sent is gone.
    assert [(i["id"], i["quantity"]) for i in after["items"]] == [(before["items"][0]["id"], 1)]
    assert after["subTotal"] == 29.99
    assert [n["value"] for n in after["notes"]] == ["Leave at the door", "Ring twice"]
    # What the update did not carry is kept.
    assert (after["invoiceNo"], after["billingAddress"]) == (1001, API_ADDRESS)
    (message,) = outbox(db, store.store_id, "order_updated")
    assert message.payload == after


@pytest.mark.parametrize(
    ("action", "extra", "status", "paid"),
    [
        ("completed", {}, "completed", False),
        ("paid", {}, "pending", True),
        ("deleted", {}, "archived", False),
        ("cancelled", {}, "canceled", False),
        ("refunded", {}, "canceled", False),
        ("shipped", {}, "shipped", False),
        ("updated", {"status": "refunded"}, "canceled", False),
        ("updated", {"status": "on-hold"}, "pending", False),
        ("updated", {"payment_status": "paid", "fulfillment_status": "fulfilled"}, "shipped", True),
        ("created", {"status": "completed"}, "completed", False),
    ],
)
def test_the_action_sets_the_status(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    db: Database,
    store: StoreFixture,
    action: str,
    extra: dict[str, Any],
    status: str,
    paid: bool,
) -> None:
    submit(runtime, worker, order_event(store, "created", {"id": "o-1", "total": 10}, at=at(1)))
    submit(runtime, worker, order_event(store, action, {"id": "o-1", **extra}, at=at(2)))
    order = only_order(client, store)
    assert (order["status"], order["paid"], order["total"]) == (status, paid, 10)
    with db.read() as session:
        row = session.scalars(select(Order).where(Order.store_id == store.store_id)).one()
        assert (row.completed_at is not None) == (status == "completed")
        assert (row.paid_at is not None) == paid
        assert (row.deleted_at == at(2)) == (action == "deleted")


def test_replaying_the_same_events_leaves_the_same_records(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    events = [
        order_event(store, "created", at=at(2)),
        order_event(store, "updated", {"id": "order_1001", "total": 120}, at=at(3)),
        order_event(store, "completed", {"id": "order_1001"}, at=at(4)),
    ]
    submit(runtime, worker, *events)
    first = client.get("/v1/orders", headers=store.headers).json()
    topics = [m.topic for m in outbox(db, store.store_id) if m.topic.startswith("order_")]
    assert topics == ["order_created", "order_updated", "order_updated"]

    # The processor runs again over the very same stored events...
    with db.transaction() as session:
        stored = session.scalars(
            select(Event).where(Event.store_id == store.store_id).order_by(Event.id)
        ).all()
        assert len(stored) == 3
        for event in stored:
            process_event(session, event)
    assert client.get("/v1/orders", headers=store.headers).json() == first
    # ...and the store sends them all again: nothing changes, nothing new is emitted.
    submit(runtime, worker, *copy.deepcopy(events))
    assert client.get("/v1/orders", headers=store.headers).json() == first
    assert len([m for m in outbox(db, store.store_id) if m.topic.startswith("order_")]) == 3


@pytest.mark.parametrize(
    "entity", [None, {}, {"id": ""}, {"id": None, "total": 5}, {"id": "x" * 301}, {"id": [1]}]
)
def test_an_event_without_an_order_id_is_skipped(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    db: Database,
    store: StoreFixture,
    entity: dict[str, Any] | None,
) -> None:
    event = lifecycle(store.store_id, "order", "created", entity)
    submit(runtime, worker, event)
    assert client.get("/v1/orders", headers=store.headers).json()["totalCount"] == 0
    with db.read() as session:
        stored = session.scalars(select(Event).where(Event.store_id == store.store_id)).one()
        assert session.get(PendingEvent, stored.id) is None and stored.attempts == 0


def test_a_silent_event_keeps_the_record_but_emits_nothing(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    submit(runtime, worker, order_event(store, "created", silent=True))
    assert only_order(client, store)["total"] == 99.99
    assert outbox(db, store.store_id, "order_created") == []


def test_value_and_currency_stand_in_for_a_missing_total(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    event = order_event(store, "paid", {"id": "o-9"}, value=42.5, currency="eur", at=at(5))
    (result,) = submit(runtime, worker, event)
    order = only_order(client, store)
    assert (order["total"], order["paid"], order["created"]) == (42.5, True, int(at(5).timestamp()))
    # Without an address, the contact's own email and name stand in.
    assert (order["customerEmail"], order["contactId"]) == ("ann@example.com", result.contact_id)
    assert order["invoiceNo"] == 1
    with db.read() as session:
        row = session.scalars(select(Order).where(Order.store_id == store.store_id)).one()
        assert row.currency == "EUR"


def test_invoice_numbers_continue_the_stores_sequence(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    submit(
        runtime,
        worker,
        order_event(store, "created", {"id": "a", "number": "#41"}),
        order_event(store, "created", {"id": "b", "number": "WEB-7"}),
        order_event(store, "created", {"id": "c"}),
    )
    orders = client.get("/v1/orders", headers=store.headers).json()["items"]
    assert [o["invoiceNo"] for o in orders] == [41, 42, 43]


def test_tracking_becomes_the_fulfillment(
    runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    tracking = {"code": "1Z999", "courier_title": "UPS", "courier_url": "https://ups.example"}
    submit(runtime, worker, order_event(store, "updated", {"id": "t-1", "tracking": tracking}))
    with db.read() as session:
        row = session.scalars(select(Order).where(Order.store_id == store.store_id)).one()
        assert row.fulfillment == {
            "courier": "UPS",
            "trackingNo": "1Z999",
            "trackingUrl": "https://ups.example",
        }


def test_lines_link_to_the_catalog_product_whenever_it_arrives(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    ebook = {"id": "prod_123", "name": "E-book", "type": "digital"}
    submit(runtime, worker, lifecycle(store.store_id, "product", "created", ebook))
    submit(runtime, worker, order_event(store, "created"))
    order = only_order(client, store)
    products = client.get("/v1/products", headers=store.headers).json()["items"]
    ebook_id = products[0]["id"]
    first, second = order["items"]
    assert (first["productId"], first["type"], first["shippingRequired"]) == (
        ebook_id,
        "digital",
        False,
    )
    assert second["productId"] == 0
    assert order["shippingRequired"] is True  # the mug still ships

    # The mug arrives later: the existing line now points at it.
    submit(runtime, worker, lifecycle(store.store_id, "product", "created", {"id": "prod_456"}))
    mug_id = client.get("/v1/products?title=prod_456", headers=store.headers).json()["items"][0]
    assert only_order(client, store)["items"][1]["productId"] == mug_id["id"]


def test_another_stores_event_never_touches_this_stores_order(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    store: StoreFixture,
    other_store: StoreFixture,
) -> None:
    submit(runtime, worker, order_event(store, "created"))
    mine = only_order(client, store)
    submit(
        runtime,
        worker,
        lifecycle(other_store.store_id, "order", "completed", {"id": "order_1001", "total": 1}),
    )
    assert only_order(client, store) == mine
    theirs = only_order(client, other_store)
    assert theirs["id"] != mine["id"]
    assert (theirs["total"], theirs["status"], theirs["invoiceNo"]) == (1, "completed", 1)
