"""Product events keep the catalog: upsert or delete by the store's product id."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import Event, Product
from cartwheel.records.processor import process_event
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.records.lifecycle import at, lifecycle, outbox, submit

TSHIRT: dict[str, Any] = {
    "id": "prod_12345",
    "name": "Awesome T-Shirt",
    "description": "<p>Soft cotton</p>",
    "url": "https://store.example.com/products/awesome-tshirt",
    "image_url": "https://store.example.com/images/awesome-tshirt.jpg",
    "price": 29.99,
    "sku": "TSH-001",
    "categories": ["Shirts", "Summer"],
    "type": "T-Shirt",
}


def product_event(store: StoreFixture, action: str, entity: dict[str, Any], **kwargs: Any) -> Any:
    return lifecycle(store.store_id, "product", action, entity, **kwargs)


def products(client: TestClient, store: StoreFixture) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/products", headers=store.headers).json()["items"]
    return items


def test_created_event_makes_the_product(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    submit(runtime, worker, product_event(store, "created", TSHIRT))
    (product,) = products(client, store)
    shirts, summer = product["categories"]
    assert product == {
        "id": product["id"],
        "type": "physical",  # "T-Shirt" is not one of the API's product types
        "title": "Awesome T-Shirt",
        "description": "<p>Soft cotton</p>",
        "url": "https://store.example.com/products/awesome-tshirt",
        "hidden": False,
        "images": ["https://store.example.com/images/awesome-tshirt.jpg"],
        "categories": [
            {"id": shirts["id"], "name": "Shirts", "url": "shirts", "parentCategory": 0},
            {"id": summer["id"], "name": "Summer", "url": "summer", "parentCategory": 0},
        ],
        "options": [],
        "variants": [
            {
                "options": [],
                "price": 29.99,
                "onSale": False,
                "regularPrice": 0,
                "salePrice": 0,
                "quantity": 0,
                "sku": "TSH-001",
                "weight": 0,
            }
        ],
        "subscription": None,
        "file": None,
    }
    (message,) = outbox(db, store.store_id, "product_created")
    assert message.payload == product
    by_category = client.get(f"/v1/products?category_id={summer['id']}", headers=store.headers)
    assert by_category.json()["totalCount"] == 1
    with db.read() as session:
        row = session.scalars(select(Product).where(Product.store_id == store.store_id)).one()
        assert row.external_id == "prod_12345"


def test_updated_event_finds_the_same_product(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    submit(runtime, worker, product_event(store, "created", TSHIRT, at=at(1)))
    (before,) = products(client, store)
    update = {"id": "prod_12345", "price": 24.99, "categories": ["Sale"]}
    submit(runtime, worker, product_event(store, "updated", update, at=at(2)))
    (after,) = products(client, store)
    assert after["id"] == before["id"]
    assert after["variants"][0]["price"] == 24.99
    assert after["variants"][0]["sku"] == "TSH-001"  # kept: the update did not carry it
    assert [c["name"] for c in after["categories"]] == ["Sale"]
    assert after["title"] == "Awesome T-Shirt"
    (message,) = outbox(db, store.store_id, "product_updated")
    assert message.payload == after


def test_variants_become_the_products_variants(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    entity = {
        "id": 77,  # numeric ids are the store's ids too
        "name": "Door",
        "type": "Physical",
        "price": 199,
        "variants": [
            {"id": "v1", "sku": "D-001", "options": ["Wood", "Single"]},
            {"id": "v2", "sku": "D-002", "price": 249, "name": "Glass"},
        ],
    }
    submit(runtime, worker, product_event(store, "created", entity))
    (product,) = products(client, store)
    assert [(v["options"], v["price"], v["sku"]) for v in product["variants"]] == [
        (["Wood", "Single"], 199, "D-001"),
        (["Glass"], 249, "D-002"),
    ]
    assert (product["type"], product["url"]) == ("physical", "door")


def test_viewed_changes_nothing(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    submit(runtime, worker, product_event(store, "viewed", TSHIRT))
    assert products(client, store) == []
    submit(runtime, worker, product_event(store, "created", TSHIRT, at=at(1)))
    (before,) = products(client, store)
    viewed = {**TSHIRT, "name": "Renamed?", "price": 1}
    submit(runtime, worker, product_event(store, "viewed", viewed, at=at(2)))
    assert products(client, store) == [before]
    assert outbox(db, store.store_id, "product_updated") == []


def test_deleted_event_deletes_and_a_newer_event_brings_it_back(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    submit(runtime, worker, product_event(store, "created", TSHIRT, at=at(1)))
    (product,) = products(client, store)
    submit(runtime, worker, product_event(store, "deleted", {"id": "prod_12345"}, at=at(2)))
    assert products(client, store) == []
    gone = client.get(f"/v1/products/{product['id']}", headers=store.headers)
    assert gone.status_code == 404
    # A late event from before the deletion does not resurrect it...
    submit(runtime, worker, product_event(store, "updated", TSHIRT, at=at(1, 18)))
    assert products(client, store) == []
    # ...a newer one does, as a new product of the catalog.
    submit(runtime, worker, product_event(store, "created", TSHIRT, at=at(3)))
    (back,) = products(client, store)
    assert back["id"] == product["id"]
    assert [m.topic for m in outbox(db, store.store_id) if m.topic.startswith("product_")] == [
        "product_created",
        "product_created",
    ]
    # Deleting what the store never sent is nothing to do.
    submit(runtime, worker, product_event(store, "deleted", {"id": "unknown"}, at=at(4)))
    assert len(products(client, store)) == 1


def test_replaying_the_same_events_leaves_the_same_records(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    events = [
        product_event(store, "created", TSHIRT, at=at(1)),
        product_event(store, "updated", {"id": "prod_12345", "price": 19}, at=at(2)),
        product_event(store, "created", {**TSHIRT, "id": "prod_2", "url": None}, at=at(2)),
        product_event(store, "deleted", {"id": "prod_2"}, at=at(3)),
    ]
    submit(runtime, worker, *events)
    first = client.get("/v1/products", headers=store.headers).json()
    categories = client.get("/v1/categories", headers=store.headers).json()
    messages = len(outbox(db, store.store_id))
    with db.transaction() as session:
        for event in session.scalars(
            select(Event).where(Event.store_id == store.store_id).order_by(Event.id)
        ):
            process_event(session, event)
    submit(runtime, worker, *events)
    assert client.get("/v1/products", headers=store.headers).json() == first
    assert client.get("/v1/categories", headers=store.headers).json() == categories
    assert len(outbox(db, store.store_id)) == messages


def test_an_event_without_a_product_id_is_skipped(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    submit(
        runtime,
        worker,
        product_event(store, "created", {"name": "No id"}),
        lifecycle(store.store_id, "product", "updated", None),
    )
    assert products(client, store) == []


def test_another_stores_event_never_touches_this_stores_product(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    store: StoreFixture,
    other_store: StoreFixture,
) -> None:
    submit(runtime, worker, product_event(store, "created", TSHIRT))
    (mine,) = products(client, store)
    submit(
        runtime,
        worker,
        lifecycle(other_store.store_id, "product", "updated", {"id": "prod_12345", "name": "B"}),
        lifecycle(other_store.store_id, "product", "deleted", {"id": "prod_12345"}),
    )
    assert products(client, store) == [mine]
    assert products(client, other_store) == []
    assert client.get("/v1/categories", headers=other_store.headers).json() == []


def test_a_product_created_through_the_api_is_not_the_platforms(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    """The API's product has no platform id: an event names a product of its own."""
    made = client.post(
        "/v1/products",
        json={"type": "physical", "title": "Awesome T-Shirt", "url": "awesome-tshirt"},
        headers=store.headers,
    ).json()
    submit(runtime, worker, product_event(store, "created", {"id": str(made["id"]), "name": "X"}))
    assert [p["title"] for p in products(client, store)] == ["Awesome T-Shirt", "X"]
