"""Subscription events keep one record per subscription id, its status set by the action."""

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

SUBSCRIPTION: dict[str, Any] = {
    "id": "sub_123456",
    "url": "https://store.example.com/my-account/subscriptions/123456",
    "currency": "usd",
    "plan": "Coffee club",
    "plan_id": "plan_1",
    "amount": 19.5,
    "interval": "month",
    "interval_count": 1,
    "next_payment_at": "2026-04-01T00:00:00Z",
    "items": [{"product_id": "prod_9", "name": "Beans", "price": 19.5, "quantity": 1}],
}


def sub_event(store: StoreFixture, action: str, entity: dict[str, Any], **kwargs: Any) -> Any:
    return lifecycle(store.store_id, "subscription", action, entity, **kwargs)


def subscriptions(client: TestClient, store: StoreFixture, query: str = "") -> list[Any]:
    response = client.get(f"/v1/customer-subscriptions{query}", headers=store.headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def test_created_event_makes_an_active_subscription(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    (result,) = submit(runtime, worker, sub_event(store, "created", SUBSCRIPTION, at=at(1)))
    (subscription,) = subscriptions(client, store)
    assert subscription == {
        "id": subscription["id"],
        "externalId": "sub_123456",
        "contactId": result.contact_id,
        "status": "active",
        "currency": "USD",
        "url": "https://store.example.com/my-account/subscriptions/123456",
        "plan": "Coffee club",
        "planId": "plan_1",
        "amount": 19.5,
        "interval": "month",
        "intervalCount": 1,
        "items": [
            {
                "productId": "prod_9",
                "variantId": None,
                "name": "Beans",
                "sku": None,
                "url": None,
                "imageUrl": None,
                "price": 19.5,
                "quantity": 1,
                "total": None,
            }
        ],
        "nextPaymentOn": 1775001600,
        "startedOn": int(at(1).timestamp()),
        "renewedOn": None,
        "cancelledOn": None,
        "endedOn": None,
        "createdOn": int(at(1).timestamp()),
        "updatedOn": int(at(1).timestamp()),
    }
    fetched = client.get(f"/v1/customer-subscriptions/{subscription['id']}", headers=store.headers)
    assert fetched.json() == subscription


@pytest.mark.parametrize(
    ("action", "entity", "status", "stamp"),
    [
        ("renewed", {}, "active", "renewedOn"),
        ("cancelled", {}, "cancelled", "cancelledOn"),
        ("expired", {}, "expired", "endedOn"),
        ("renewal_failed", {}, "past_due", None),
        ("deleted", {}, "deleted", "endedOn"),
        ("updated", {"status": "on-hold"}, "paused", None),
        ("updated", {"amount": 25}, "active", None),
        ("updated", {"status": "something-new"}, "active", None),
    ],
)
def test_the_action_sets_the_status(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    store: StoreFixture,
    action: str,
    entity: dict[str, Any],
    status: str,
    stamp: str | None,
) -> None:
    submit(runtime, worker, sub_event(store, "created", SUBSCRIPTION, at=at(1)))
    submit(runtime, worker, sub_event(store, action, {"id": "sub_123456", **entity}, at=at(2)))
    (subscription,) = subscriptions(client, store)
    assert subscription["status"] == status
    if stamp is not None:
        assert subscription[stamp] == int(at(2).timestamp())
    assert subscription["updatedOn"] == int(at(2).timestamp())
    assert subscriptions(client, store, f"?status={status}") == [subscription]


def test_a_pending_subscription_activates_on_renewal(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    submit(
        runtime,
        worker,
        sub_event(store, "created", {"id": "s1", "status": "pending"}, at=at(1)),
    )
    assert subscriptions(client, store)[0]["status"] == "pending"
    submit(runtime, worker, sub_event(store, "renewed", {"id": "s1"}, at=at(2)))
    assert subscriptions(client, store)[0]["status"] == "active"


def test_replaying_the_same_events_leaves_the_same_records(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    events = [
        sub_event(store, "created", SUBSCRIPTION, at=at(1)),
        sub_event(store, "renewed", {"id": "sub_123456"}, at=at(2)),
        sub_event(store, "renewal_failed", {"id": "sub_123456"}, at=at(3)),
        sub_event(store, "cancelled", {"id": "sub_123456"}, at=at(4)),
    ]
    submit(runtime, worker, *events)
    first = subscriptions(client, store)
    assert first[0]["status"] == "cancelled"
    with db.transaction() as session:
        for event in session.scalars(
            select(Event).where(Event.store_id == store.store_id).order_by(Event.id)
        ):
            process_event(session, event)
    submit(runtime, worker, *events)
    assert subscriptions(client, store) == first


def test_an_event_without_a_subscription_id_is_skipped(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    submit(runtime, worker, sub_event(store, "created", {"plan": "x"}))
    assert subscriptions(client, store) == []


def test_another_stores_event_never_touches_this_stores_subscription(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    store: StoreFixture,
    other_store: StoreFixture,
) -> None:
    submit(runtime, worker, sub_event(store, "created", SUBSCRIPTION, at=at(1)))
    (mine,) = subscriptions(client, store)
    submit(
        runtime,
        worker,
        lifecycle(other_store.store_id, "subscription", "cancelled", {"id": "sub_123456"}),
    )
    assert subscriptions(client, store) == [mine]
    (theirs,) = subscriptions(client, other_store)
    assert theirs["id"] != mine["id"] and theirs["status"] == "cancelled"
    missing = client.get(f"/v1/customer-subscriptions/{mine['id']}", headers=other_store.headers)
    assert (missing.status_code, missing.json()) == (
        404,
        {"success": False, "message": "Subscription not found."},
    )


def test_subscription_list_errors(client: TestClient, store: StoreFixture) -> None:
    assert client.get("/v1/customer-subscriptions").status_code == 401
    bad = client.get("/v1/customer-subscriptions?skip=-5", headers=store.headers)
    assert bad.status_code == 400
    assert client.get("/v1/customer-subscriptions/0", headers=store.headers).status_code == 404
    nul = client.get(
        "/v1/customer-subscriptions", params={"status": "a\x00"}, headers=store.headers
    )
    assert nul.status_code == 400
