"""Cart events keep the contact's cart: open, abandoned, converted by an order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import Event
from cartwheel.records.processor import process_event
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.records.lifecycle import at, lifecycle, submit

CART: dict[str, Any] = {
    "id": "cart_123456",
    "total": 59.98,
    "total_products": 2,
    "currency": "usd",
    "url": "https://store.example.com/cart",
    "items": [
        {
            "product_id": "prod_123",
            "variant_id": "var_123",
            "name": "Awesome T-Shirt",
            "sku": "TSH-001",
            "url": "https://store.example.com/products/awesome-tshirt",
            "image_url": "https://store.example.com/images/awesome-tshirt.jpg",
            "brand": "Awesome Brand",
            "price": 29.99,
            "quantity": 2,
        }
    ],
}


def cart_event(store: StoreFixture, action: str, entity: dict[str, Any], **kwargs: Any) -> Any:
    return lifecycle(store.store_id, "cart", action, entity, **kwargs)


def carts(client: TestClient, store: StoreFixture, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/v1/carts{query}", headers=store.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_created_event_opens_the_contacts_cart(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    (result,) = submit(runtime, worker, cart_event(store, "created", CART, at=at(1)))
    (cart,) = carts(client, store)
    assert cart == {
        "id": cart["id"],
        "externalId": "cart_123456",
        "contactId": result.contact_id,
        "status": "open",
        "items": [
            {
                "productId": "prod_123",
                "variantId": "var_123",
                "name": "Awesome T-Shirt",
                "sku": "TSH-001",
                "url": "https://store.example.com/products/awesome-tshirt",
                "imageUrl": "https://store.example.com/images/awesome-tshirt.jpg",
                "price": 29.99,
                "quantity": 2,
                "total": None,
            }
        ],
        "total": 59.98,
        "totalProducts": 2,
        "currency": "USD",
        "url": "https://store.example.com/cart",
        "orderId": None,
        "abandonedOn": None,
        "convertedOn": None,
        "createdOn": int(at(1).timestamp()),
        "updatedOn": int(at(1).timestamp()),
    }
    assert client.get(f"/v1/carts/{cart['id']}", headers=store.headers).json() == cart


def test_updated_then_abandoned_then_converted_by_a_completed_order(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    submit(runtime, worker, cart_event(store, "created", CART, at=at(1)))
    smaller = {"id": "cart_123456", "total": 29.99, "total_products": 1, "items": CART["items"][:1]}
    submit(runtime, worker, cart_event(store, "updated", smaller, at=at(2)))
    (cart,) = carts(client, store)
    assert (cart["status"], cart["total"], cart["totalProducts"]) == ("open", 29.99, 1)

    submit(runtime, worker, cart_event(store, "abandoned", {"id": "cart_123456"}, at=at(3)))
    (cart,) = carts(client, store)
    assert (cart["status"], cart["abandonedOn"]) == ("abandoned", int(at(3).timestamp()))
    assert carts(client, store, "?status=abandoned") == [cart]

    order = lifecycle(store.store_id, "order", "completed", {"id": "o-1", "total": 29.99}, at=at(4))
    submit(runtime, worker, order)
    order_id = client.get("/v1/orders", headers=store.headers).json()["items"][0]["id"]
    (cart,) = carts(client, store)
    assert (cart["status"], cart["orderId"], cart["convertedOn"]) == (
        "converted",
        order_id,
        int(at(4).timestamp()),
    )

    # The platform empties the cart after checkout: the bought cart is kept as it was.
    emptied = {"id": "cart_123456", "items": [], "total": 0, "total_products": 0}
    submit(runtime, worker, cart_event(store, "updated", emptied, at=at(5)))
    submit(runtime, worker, cart_event(store, "abandoned", {"id": "cart_123456"}, at=at(6)))
    assert carts(client, store) == [cart]

    # Filling it again is a new shopping session.
    submit(runtime, worker, cart_event(store, "updated", CART, at=at(7)))
    (cart,) = carts(client, store)
    assert (cart["status"], cart["orderId"], cart["total"]) == ("open", None, 59.98)


def test_a_paid_order_converts_only_that_contacts_carts(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    submit(
        runtime,
        worker,
        cart_event(store, "created", CART, email="ann@example.com", at=at(1)),
        cart_event(store, "created", {**CART, "id": "cart_bob"}, email="bob@example.com", at=at(1)),
    )
    paid = lifecycle(store.store_id, "order", "paid", {"id": "o-2"}, email="ann@example.com")
    submit(runtime, worker, paid)
    statuses = {c["externalId"]: c["status"] for c in carts(client, store)}
    assert statuses == {"cart_123456": "converted", "cart_bob": "open"}
    # An order that is only created converts nothing.
    created = lifecycle(store.store_id, "order", "created", {"id": "o-3"}, email="bob@example.com")
    submit(runtime, worker, created)
    assert carts(client, store, "?status=open")[0]["externalId"] == "cart_bob"


def test_a_cart_event_without_an_id_keeps_the_contacts_latest_cart(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    no_id = {k: v for k, v in CART.items() if k != "id"}
    submit(runtime, worker, cart_event(store, "created", no_id, at=at(1)))
    submit(runtime, worker, cart_event(store, "updated", {"total": 10}, at=at(2)))
    submit(runtime, worker, cart_event(store, "abandoned", {}, at=at(3)))
    (cart,) = carts(client, store)
    assert (cart["externalId"], cart["total"], cart["status"]) == (None, 10, "abandoned")


def test_replaying_the_same_events_leaves_the_same_records(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    events = [
        cart_event(store, "created", CART, at=at(1)),
        cart_event(store, "abandoned", {"id": "cart_123456"}, at=at(2)),
        lifecycle(store.store_id, "order", "completed", {"id": "o-1"}, at=at(3)),
        cart_event(store, "updated", {"id": "cart_123456", "items": []}, at=at(4)),
    ]
    submit(runtime, worker, *events)
    first = carts(client, store)
    assert first[0]["status"] == "converted"
    with db.transaction() as session:
        for event in session.scalars(
            select(Event).where(Event.store_id == store.store_id).order_by(Event.id)
        ):
            process_event(session, event)
    submit(runtime, worker, *events)
    assert carts(client, store) == first


def test_another_stores_event_never_touches_this_stores_cart(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    store: StoreFixture,
    other_store: StoreFixture,
) -> None:
    submit(runtime, worker, cart_event(store, "created", CART, at=at(1)))
    (mine,) = carts(client, store)
    submit(
        runtime,
        worker,
        lifecycle(other_store.store_id, "cart", "abandoned", {"id": "cart_123456"}, at=at(2)),
        lifecycle(other_store.store_id, "order", "completed", {"id": "o-1"}, at=at(3)),
    )
    assert carts(client, store) == [mine]
    (theirs,) = carts(client, other_store)
    assert theirs["id"] != mine["id"] and theirs["status"] == "converted"
    missing = client.get(f"/v1/carts/{mine['id']}", headers=other_store.headers)
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "message": "Cart not found."}
    by_contact = carts(client, other_store, f"?contactId={mine['contactId']}")
    assert by_contact == []


def test_cart_list_filters_and_errors(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    (ann,) = submit(runtime, worker, cart_event(store, "created", CART))
    submit(runtime, worker, cart_event(store, "created", {"id": "c2"}, email="bob@example.com"))
    assert [c["externalId"] for c in carts(client, store, f"?contactId={ann.contact_id}")] == [
        "cart_123456"
    ]
    page = client.get("/v1/carts?limit=1&skip=1", headers=store.headers).json()
    assert (page["totalCount"], [c["externalId"] for c in page["items"]]) == (2, ["c2"])
    for query, message in (
        ("?status=lost", "The status parameter must be one of: open, abandoned, converted."),
        ("?contactId=ann", "The contactId parameter must be an integer."),
        ("?contactId=99999999999", "The contactId parameter may not be greater than 2147483647."),
        ("?limit=0", "The limit parameter must be between 1 and 50."),
    ):
        response = client.get(f"/v1/carts{query}", headers=store.headers)
        assert (response.status_code, response.json()) == (
            400,
            {"success": False, "message": message},
        )
    assert client.get("/v1/carts/99999999999", headers=store.headers).status_code == 404


@pytest.mark.parametrize("path", ["/v1/carts", "/v1/carts/1"])
def test_carts_need_the_secret_key(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Unauthenticated."}
