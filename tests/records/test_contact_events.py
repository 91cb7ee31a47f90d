"""Customer and user events keep no record of their own; the records of a merged contact
follow it to the surviving contact."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints
from cartwheel.models import Cart, Contact, CustomerSubscription, Order, PendingEvent, Product
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.records.lifecycle import lifecycle, submit


def test_customer_and_user_events_keep_the_contact_and_nothing_else(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    results = submit(
        runtime,
        worker,
        lifecycle(store.store_id, "customer", "created", {"id": "cust_1", "purchase_count": 5}),
        lifecycle(store.store_id, "user", "created", {"id": "user_1", "username": "ann"}),
        lifecycle(store.store_id, "user", "deleted", {"id": "user_1"}),
        lifecycle(store.store_id, "customer", "deleted", {"id": "cust_1"}),
    )
    contact_id = results[0].contact_id
    with db.read() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None and contact.deleted_at is None
        pending = session.scalar(
            select(func.count()).where(PendingEvent.store_id == store.store_id)
        )
        assert pending == 0
        for model in (Order, Product, Cart, CustomerSubscription):
            count = session.scalar(select(func.count()).where(model.store_id == store.store_id))
            assert count == 0, model.__name__


def test_a_merged_contacts_records_follow_it(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    def by_phone(category: str, action: str, entity: dict[str, str]) -> CanonicalEvent:
        event = lifecycle(store.store_id, category, action, entity)
        event.identity = IdentityHints()
        event.identity.add("phone", "+15551230077")
        return event

    (phone_only,) = submit(runtime, worker, by_phone("order", "created", {"id": "o-1"}))
    submit(
        runtime,
        worker,
        by_phone("cart", "created", {"id": "c-1"}),
        by_phone("subscription", "created", {"id": "s-1"}),
    )
    (known,) = submit(runtime, worker, lifecycle(store.store_id, "page", "viewed", None))
    # One request proves the phone and the email are the same person: the phone-only
    # contact is merged into the one with the email.
    both = lifecycle(store.store_id, "page", "viewed", None)
    both.identity.add("phone", "+15551230077")
    submit(runtime, worker, both)

    orders = client.get("/v1/orders", headers=store.headers).json()["items"]
    carts = client.get("/v1/carts", headers=store.headers).json()["items"]
    subs = client.get("/v1/customer-subscriptions", headers=store.headers).json()["items"]
    assert phone_only.contact_id != known.contact_id
    assert [r["contactId"] for r in (*orders, *carts, *subs)] == [known.contact_id] * 3
