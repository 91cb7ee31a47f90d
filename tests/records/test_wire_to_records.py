"""The documents' example requests of the event APIs end as records of the store data API:
the adapters' canonical entities are what the processors read."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from cartwheel.wire.lindris.examples import LIFECYCLE
from cartwheel.wire.omnisend.schemas import PAID_FOR_ORDER_EXAMPLE
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture


def lindris(client: TestClient, store: StoreFixture, kind: str, action: str) -> None:
    body: dict[str, Any] = copy.deepcopy(LIFECYCLE[(kind, action)])
    # Stored for real (the examples only test), for a person known by reference id.
    for key in ("uuid", "test"):
        body.pop(key, None)
    response = client.post(f"/api/events/{kind}/{action}", json=body, headers=store.headers)
    assert response.status_code < 300, response.text


def test_lindris_order_example_becomes_an_order(
    client: TestClient, worker: Worker, store: StoreFixture
) -> None:
    lindris(client, store, "order", "created")
    worker.drain()
    (order,) = client.get("/v1/orders", headers=store.headers).json()["items"]
    assert (order["invoiceNo"], order["total"], order["status"]) == (1001, 99.99, "completed")
    assert (order["shippingAmount"], order["discountAmount"], order["paymentMethod"]) == (
        5.99,
        10,
        "stripe",
    )
    assert order["taxes"][0]["total"] == 8.5
    assert order["billingAddress"]["zipCode"] == "10001"
    assert order["contactId"] > 0


def test_lindris_product_cart_and_subscription_examples_become_records(
    client: TestClient, worker: Worker, store: StoreFixture
) -> None:
    for kind, action in (("cart", "created"), ("subscription", "created")):
        lindris(client, store, kind, action)
    worker.drain()
    (cart,) = client.get("/v1/carts", headers=store.headers).json()["items"]
    assert (cart["externalId"], cart["total"], cart["status"]) == ("cart_123456", 59.98, "open")
    (sub,) = client.get("/v1/customer-subscriptions", headers=store.headers).json()["items"]
    assert (sub["externalId"], sub["status"]) == ("sub_123456", "active")
    # A product view is a customer's view, not a catalog change.
    lindris(client, store, "product", "viewed")
    worker.drain()
    assert client.get("/v1/products", headers=store.headers).json()["totalCount"] == 0


def test_omnisend_paid_for_order_example_becomes_a_paid_order(
    client: TestClient, worker: Worker, store: StoreFixture
) -> None:
    response = client.post("/v5/events", json=PAID_FOR_ORDER_EXAMPLE, headers=store.headers)
    assert response.status_code < 300, response.text
    worker.drain()
    (order,) = client.get("/v1/orders", headers=store.headers).json()["items"]
    assert (order["invoiceNo"], order["paid"], order["status"]) == (4122111, True, "pending")
    assert (order["customerEmail"], order["discountCode"], order["shippingName"]) == (
        "john.smith@example.com",
        "SUMMER20",
        "Example Courier",
    )
    (item,) = order["items"]
    assert (item["name"], item["quantity"], item["sku"], item["weight"]) == (
        "The best product",
        2,
        "200",
        20.4,
    )
    assert item["variation"] == [{"name": "Variant", "value": "Full product title - Green"}]
