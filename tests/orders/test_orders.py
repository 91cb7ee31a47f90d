"""Orders of the store data API: list, get, update, with the document's shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import Order
from cartwheel.orders.schemas import ADDRESS_EXAMPLE, ORDER_EXAMPLE, ORDER_UPDATE_EXAMPLE
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of
from tests.records.lifecycle import lifecycle, outbox, submit
from tests.records.test_order_events import ORDER

STATUSES = ["PENDING", "SHIPPED", "COMPLETED", "CANCELED", "ARCHIVED"]


def place(runtime: Runtime, worker: Worker, store: StoreFixture, **entity: Any) -> None:
    submit(runtime, worker, lifecycle(store.store_id, "order", "created", {**ORDER, **entity}))


def first_order(client: TestClient, store: StoreFixture) -> dict[str, Any]:
    order: dict[str, Any] = client.get("/v1/orders", headers=store.headers).json()["items"][0]
    return order


def test_orders_have_the_documents_shape(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    place(runtime, worker, store)
    listing = client.get("/v1/orders", headers=store.headers).json()
    assert set(listing) == {"items", "totalCount", "limit", "skip"}
    order = listing["items"][0]
    assert set(order) == set(ORDER_EXAMPLE)
    assert set(order["items"][0]) == set(ORDER_EXAMPLE["items"][0])
    assert set(order["billingAddress"]) == set(ADDRESS_EXAMPLE)
    assert set(order["taxes"][0]) == set(ORDER_EXAMPLE["taxes"][0])
    fetched = client.get(f"/v1/orders/{order['id']}", headers=store.headers)
    assert fetched.status_code == 200 and json_of(fetched) == order


def test_document_update_example(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    place(runtime, worker, store, status="completed")
    order = first_order(client, store)
    response = client.put(
        f"/v1/orders/{order['id']}", json=ORDER_UPDATE_EXAMPLE, headers=store.headers
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {
        **order,
        "customerName": "string",
        "customerEmail": "user@example.com",
        "billingAddress": ADDRESS_EXAMPLE,
        "shippingAddress": ADDRESS_EXAMPLE,
        "paymentMethod": "string",
        "transactionId": "string",
        "paid": True,
        "status": "pending",
    }
    with db.read() as session:
        row = session.get(Order, order["id"])
        assert row is not None
        assert row.fulfillment == {"courier": "UPS", "trackingNo": "123456789ABC"}
        assert row.paid_at is not None
    (message,) = outbox(db, store.store_id, "order_updated")
    assert message.payload == updated


@pytest.mark.parametrize("status", STATUSES)
def test_status_goes_in_uppercase_and_comes_out_lowercase(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture, status: str
) -> None:
    place(runtime, worker, store)
    path = f"/v1/orders/{first_order(client, store)['id']}"
    response = client.put(path, json={"status": status}, headers=store.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status.lower()
    assert client.get(path, headers=store.headers).json()["status"] == status.lower()


@pytest.mark.parametrize("status", ["completed", "Shipped", "REFUNDED", ""])
def test_other_status_values_are_refused(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture, status: str
) -> None:
    place(runtime, worker, store)
    order = first_order(client, store)
    response = client.put(
        f"/v1/orders/{order['id']}", json={"status": status}, headers=store.headers
    )
    message = "The status field is invalid."
    assert response.status_code == 422
    assert response.json() == {
        "success": False,
        "message": message,
        "errors": {"status": [message]},
    }
    assert first_order(client, store) == order


def test_only_non_empty_fields_are_set(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    place(runtime, worker, store)
    order = first_order(client, store)
    path = f"/v1/orders/{order['id']}"
    response = client.put(
        path,
        json={
            "customerName": "",
            "paymentMethod": None,
            "billingAddress": {"city": "Boston", "zipCode": "", "phone": None},
            "fulfillment": {"trackingNo": "1Z"},
            "notifyCustomer": False,
        },
        headers=store.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == {**order, "billingAddress": {**order["billingAddress"], "city": "Boston"}}
    second = client.put(path, json={"fulfillment": {"courier": "DHL"}}, headers=store.headers)
    assert second.json() == updated  # fulfillment is kept, not shown
    with db.read() as session:
        row = session.get(Order, order["id"])
        assert row is not None and row.fulfillment == {"courier": "DHL", "trackingNo": "1Z"}
    # Each change is an order_updated; an empty update changes nothing and emits nothing.
    client.put(path, json={}, headers=store.headers)
    assert len(outbox(db, store.store_id, "order_updated")) == 2


def test_validation_errors(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    place(runtime, worker, store)
    path = f"/v1/orders/{first_order(client, store)['id']}"
    for body, field, message in (
        (
            {"customerEmail": "nope"},
            "customerEmail",
            "The customerEmail field must be a valid email address.",
        ),
        ({"paid": "maybe"}, "paid", "The paid field must be true or false."),
        (
            {"customerName": "J" * 301},
            "customerName",
            "The customerName field may not be greater than 300 characters.",
        ),
        (
            {"billingAddress": {"city": "Bo\u0000ston"}},
            "billingAddress.city",
            "The billingAddress.city field must not contain NUL characters.",
        ),
        (
            {"billingAddress": "Main St"},
            "billingAddress",
            "The billingAddress field must be an object.",
        ),
    ):
        response = client.put(path, json=body, headers=store.headers)
        assert response.status_code == 422, body
        assert response.json() == {
            "success": False,
            "message": message,
            "errors": {field: [message]},
        }


def test_created_range_filter(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    for order_id, created in (("a", 1573251600), ("b", 1573251649), ("c", 1573251700)):
        place(runtime, worker, store, id=order_id, created_at=_iso(created))

    def ids(query: str) -> list[int]:
        response = client.get(f"/v1/orders?{query}", headers=store.headers)
        assert response.status_code == 200, response.text
        return [o["invoiceNo"] for o in response.json()["items"]]

    numbers = ids("")
    assert len(numbers) == 3
    a, b, c = numbers
    assert ids("created_at_min=1573251649") == [b, c]  # inclusive
    assert ids("created_at_max=1573251649") == [a, b]  # inclusive
    assert ids("created_at_min=1573251649&created_at_max=1573251649") == [b]
    assert ids("created_at_min=1573251701") == []
    for query, message in (
        ("created_at_min=yesterday", "The created_at_min parameter must be an integer."),
        ("created_at_max=1.5", "The created_at_max parameter must be an integer."),
        (
            "created_at_max=99999999999999999",
            "The created_at_max parameter may not be greater than 253402300799.",
        ),
    ):
        response = client.get(f"/v1/orders?{query}", headers=store.headers)
        assert (response.status_code, response.json()) == (
            400,
            {"success": False, "message": message},
        )


def test_pagination_edges(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    for order_id in ("a", "b", "c"):
        place(runtime, worker, store, id=order_id)
    page = client.get("/v1/orders?limit=2&skip=1", headers=store.headers).json()
    assert (page["totalCount"], page["limit"], page["skip"], len(page["items"])) == (3, 2, 1, 2)
    assert client.get("/v1/orders?skip=3", headers=store.headers).json()["items"] == []
    for query in ("limit=0", "limit=51", "skip=-1", "limit=x"):
        response = client.get(f"/v1/orders?{query}", headers=store.headers)
        assert response.status_code == 400, query


def test_missing_orders_and_keys(client: TestClient, store: StoreFixture) -> None:
    not_found = {"success": False, "message": "Order not found."}
    for path in ("/v1/orders/999999999", "/v1/orders/99999999999"):
        assert client.get(path, headers=store.headers).json() == not_found
        put = client.put(path, json={"paid": True}, headers=store.headers)
        assert (put.status_code, put.json()) == (404, not_found)
    unauthenticated = {"success": False, "message": "Unauthenticated."}
    for method, path in (("GET", "/v1/orders"), ("GET", "/v1/orders/1"), ("PUT", "/v1/orders/1")):
        response = client.request(method, path, json={})
        assert (response.status_code, response.json()) == (401, unauthenticated)


def test_another_store_reads_changes_and_detects_nothing(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
) -> None:
    place(runtime, worker, store)
    order = first_order(client, store)
    path = f"/v1/orders/{order['id']}"
    not_found = {"success": False, "message": "Order not found."}
    assert client.get("/v1/orders", headers=other_store.headers).json()["totalCount"] == 0
    assert client.get(path, headers=other_store.headers).json() == not_found
    put = client.put(path, json={"status": "CANCELED"}, headers=other_store.headers)
    assert (put.status_code, put.json()) == (404, not_found)
    assert first_order(client, store) == order
    assert outbox(db, other_store.store_id) == []


def test_openapi_documents_the_order_operations(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/v1/orders"]) == {"get"}
    assert set(paths["/v1/orders/{id}"]) == {"get", "put"}
    put = paths["/v1/orders/{id}"]["put"]
    example = put["requestBody"]["content"]["application/json"]["examples"]["document"]
    assert example["value"] == ORDER_UPDATE_EXAMPLE
    params = {p["name"] for p in paths["/v1/orders"]["get"]["parameters"]}
    assert {"created_at_min", "created_at_max", "limit", "skip"} <= params
    for path in ("/v1/carts", "/v1/carts/{id}", "/v1/customer-subscriptions"):
        assert "get" in paths[path]


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def test_the_order_row_keeps_the_stores_id(
    runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    place(runtime, worker, store, id=123456)
    with db.read() as session:
        row = session.scalars(select(Order).where(Order.store_id == store.store_id)).one()
    assert row.external_id == "123456"
