"""A trigger's ``where`` in a worker pass: each of the pass's events is checked against the
``where`` of the triggers its kind matches, whatever other kinds the pass holds; a flow
whose triggers are ``any`` of a kind with a ``where`` and a kind without starts from both;
a ``where`` the event's own properties do not settle (a text search) is asked of the
database, and the answers of both kinds agree. On both engines, with the clock injected."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import FlowRun
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Clock, publish
from tests.segments.helpers import track

WAIT = {
    "start": "wait",
    "steps": {
        "wait": {"type": "wait", "for": {"hours": 1}, "next": "end"},
        "end": {"type": "exit"},
    },
}
PRICEY: dict[str, Any] = {
    "name": "Pricey views",
    "trigger": {
        "event": "Viewed Product",
        "where": {"property": "price", "op": "gte", "value": 20},
    },
    **WAIT,
}
EITHER: dict[str, Any] = {
    "name": "Pricey carts or any sign-up",
    "trigger": {
        "any": [
            {
                "event": "Added to Cart",
                "where": {
                    "all": [
                        {"property": "price", "op": "gt", "value": 20},
                        {"property": "sku", "op": "neq", "value": "FREE"},
                    ]
                },
            },
            {"event": "Signed Up"},
        ]
    },
    **WAIT,
}


def started(db: Database, flow_id: int) -> set[int]:
    with db.read() as session:
        return set(session.scalars(select(FlowRun.contact_id).where(FlowRun.flow_id == flow_id)))


def test_each_event_meets_the_where_of_its_own_kind_in_a_mixed_pass(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    pricey = publish(client, store, PRICEY)
    either = publish(client, store, EITHER)

    def send(email: str, name: str, properties: dict[str, Any]) -> int:
        return track(runtime, store.store_id, email, name, at=clock.now, properties=properties)

    # One pass holding every case.
    cheap_view = send("a@where.io", "Viewed Product", {"price": 19.99})
    edge_view = send("b@where.io", "Viewed Product", {"price": 20})
    text_price = send("c@where.io", "Viewed Product", {"price": "25"})  # a string: no number
    no_price = send("d@where.io", "Viewed Product", {"sku": "A"})
    cart = send("e@where.io", "Added to Cart", {"price": 20.5, "sku": "A"})
    free_cart = send("f@where.io", "Added to Cart", {"price": 50, "sku": "FREE"})
    edge_cart = send("g@where.io", "Added to Cart", {"price": 20, "sku": "B"})
    # A pricey cart is not a view, and a pricey view not a cart.
    cart_as_view = send("h@where.io", "Added to Cart", {"price": 99, "sku": "C"})
    view_as_cart = send("i@where.io", "Viewed Product", {"price": 99, "sku": "C"})
    signed_up = send("j@where.io", "Signed Up", {})
    flow_worker.drain()

    assert started(db, pricey) == {edge_view, view_as_cart}
    assert started(db, either) == {cart, cart_as_view, signed_up}
    untouched = {cheap_view, text_price, no_price, free_cart, edge_cart}
    assert not untouched & (started(db, pricey) | started(db, either))


#: Price is settled from the event itself; ``starts_with`` only by the database.
PRICEY_SHIRTS: dict[str, Any] = {
    "name": "Pricey shirts",
    "trigger": {
        "event": "Viewed Product",
        "where": {
            "all": [
                {"property": "price", "op": "gte", "value": 20},
                {"property": "sku", "op": "starts_with", "value": "TSH-"},
            ]
        },
    },
    **WAIT,
}


def test_a_where_the_event_does_not_settle_is_asked_of_the_database(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    shirts = publish(client, store, PRICEY_SHIRTS)

    def view(email: str, properties: dict[str, Any]) -> int:
        return track(
            runtime, store.store_id, email, "Viewed Product", at=clock.now, properties=properties
        )

    pricey_shirt = view("a@where.io", {"price": 25, "sku": "TSH-1"})
    pricey_mug = view("b@where.io", {"price": 25, "sku": "MUG-1"})
    cheap_shirt = view("c@where.io", {"price": 5, "sku": "TSH-2"})
    no_sku = view("d@where.io", {"price": 25})
    flow_worker.drain()

    assert started(db, shirts) == {pricey_shirt}
    assert not {pricey_mug, cheap_shirt, no_sku} & started(db, shirts)
