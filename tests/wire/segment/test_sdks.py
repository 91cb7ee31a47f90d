"""The tracking spec's real libraries — ``segment-analytics-python``, ``rudder-sdk-python``
and ``@segment/analytics-node`` (Node from Debian's packages) — send to a server on loopback
with nothing but their host pointed at Cartwheel. Everything they send is read back through
the native API: the anonymous visitor's history joins the customer's by a recorded,
undoable merge; the e-commerce events keep the cart and the order; ``group``, ``screen`` and
``alias`` are stored. Run on both engines."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient

from cartwheel.db import Database
from cartwheel.runtime import Runtime
from cartwheel.stores import service as stores
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of
from tests.wire.segment.conftest import contact_by_email, events

NODE_DIR = Path(__file__).parent / "node"

#: A call in neutral form: (method, the spec's camelCase fields); {"flush": True} between
#: phases sends what came before in a request of its own.
Call = tuple[str, dict[str, Any]] | dict[str, bool]
Sender = Callable[[str, str, list[Call]], list[str]]

_SNAKE = {
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "previousId": "previous_id",
    "groupId": "group_id",
    "messageId": "message_id",
}


def send_python(client_class: type[Any], **options: Any) -> Sender:
    def send(host: str, write_key: str, calls: list[Call]) -> list[str]:
        errors: list[str] = []
        client = client_class(
            write_key,
            host=host,
            on_error=lambda error, _batch: errors.append(str(error)),
            max_retries=2,
            upload_interval=0.05,  # the consumer thread's wait for more (default 0.5 s)
            **options,
        )
        for call in calls:
            if isinstance(call, dict):
                client.flush()
                continue
            method, fields = call
            getattr(client, method)(**{_SNAKE.get(k, k): v for k, v in fields.items()})
        client.flush()
        client.join()
        return errors

    return send


def send_node(host: str, write_key: str, calls: list[Call]) -> list[str]:
    node = shutil.which("node")
    assert node is not None, "Node is installed by the test set-up (apt-get install nodejs npm)"
    if not (NODE_DIR / "node_modules" / "@segment" / "analytics-node").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)
    done = subprocess.run(
        [node, str(NODE_DIR / "send.js"), host, write_key, json.dumps(calls)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    errors: list[str] = json.loads(done.stdout.strip().splitlines()[-1])["errors"]
    return errors


SDKS: dict[str, tuple[Sender, str]] = {
    "segment-analytics-python": (send_python(SegmentClient), "analytics-python"),
    "segment-analytics-python-gzip": (send_python(SegmentClient, gzip=True), "analytics-python"),
    "rudder-sdk-python": (send_python(RudderClient), "analytics-python"),
    "analytics-node": (send_node, "@segment/analytics-node"),
}


@pytest.mark.parametrize("sdk", list(SDKS))
def test_a_visitor_becomes_a_customer_through_the_real_library(
    sdk: str, server_url: str, client: TestClient, store: StoreFixture, worker: Worker
) -> None:
    send, library = SDKS[sdk]
    tag = uuid.uuid4().hex[:8]
    anonymous, user, email = f"anon-{tag}", f"user-{tag}", f"ann-{tag}@example.com"
    product = {"product_id": "p-1", "sku": "TSH-1", "name": "T-shirt", "price": 10}
    visit: list[Call] = [
        ("page", {"anonymousId": anonymous, "name": "Home", "properties": {"path": "/"}}),
        ("track", {"anonymousId": anonymous, "event": "Product Viewed", "properties": product}),
        (
            "track",
            {
                "anonymousId": anonymous,
                "event": "Product Added",
                "properties": {**product, "cart_id": f"cart-{tag}", "quantity": 2},
            },
        ),
    ]
    errors = send(server_url, store.write_key, visit)
    assert errors == []
    # The visitor is nobody the store can market to yet: no contact, but events.
    viewed = events(client, store, name="Product Viewed")
    assert [e["extra"]["anonymousId"] for e in viewed] == [anonymous]
    assert json_of(client.get("/v1/contacts", headers=store.headers))["totalCount"] == 0
    anonymous_id = viewed[0]["contactId"]
    assert client.get(f"/v1/contacts/{anonymous_id}", headers=store.headers).status_code == 404

    signed_up: list[Call] = [
        (
            "identify",
            {
                "userId": user,
                "anonymousId": anonymous,
                "traits": {
                    "email": email,
                    "firstName": "Ann",
                    "lastName": "Lee",
                    "plan": "pro",
                    "address": {"city": "Berlin", "country": "DE"},
                },
            },
        ),
        {"flush": True},
        (
            "track",
            {
                "userId": user,
                "event": "Order Completed",
                "properties": {
                    "order_id": f"order-{tag}",
                    "total": 20,
                    "currency": "EUR",
                    "products": [{**product, "quantity": 2}],
                },
            },
        ),
        ("group", {"userId": user, "groupId": "acme", "traits": {"name": "Acme"}}),
        ("screen", {"userId": user, "name": "Checkout", "properties": {"step": 2}}),
        ("alias", {"previousId": f"legacy-{tag}", "userId": user}),
    ]
    assert send(server_url, store.write_key, signed_up) == []
    worker.drain()

    person = contact_by_email(client, store, email)
    assert person["externalIds"] == [user]
    assert (person["firstName"], person["lastName"], person["city"]) == ("Ann", "Lee", "Berlin")
    assert person["customFields"] == {"plan": "pro"}
    assert person["source"] == library
    mine = events(client, store, contactId=person["id"])
    assert sorted(e["name"] for e in mine) == sorted(
        [
            "page",
            "Product Viewed",
            "Product Added",
            "identify",
            "Order Completed",
            "group",
            "screen",
            "alias",
        ]
    )
    assert all(e["extra"]["context"]["library"]["name"] == library for e in mine)
    assert all(e["source"] == library for e in mine)

    # The anonymous profile joined the customer's by a recorded merge.
    merges = json_of(
        client.get("/v1/contact-merges", params={"contactId": person["id"]}, headers=store.headers)
    )["items"]
    assert [(m["sourceContactId"], m["reason"]) for m in merges] == [
        (anonymous_id, f"anonymous {anonymous}")
    ]
    assert merges[0]["movedEventCount"] == 3

    # The cart the visitor filled became the customer's order.
    carts = json_of(client.get("/v1/carts", headers=store.headers))["items"]
    assert [(c["externalId"], c["contactId"], c["status"]) for c in carts] == [
        (f"cart-{tag}", person["id"], "converted")
    ]
    assert [(i["productId"], i["quantity"]) for i in carts[0]["items"]] == [("p-1", 2)]
    orders = json_of(client.get("/v1/orders", headers=store.headers))["items"]
    assert [(o["contactId"], o["total"], o["status"]) for o in orders] == [
        (person["id"], 20.0, "completed")
    ]
    assert carts[0]["orderId"] == orders[0]["id"]

    # Undone, the visitor's history is the visitor's again (and it is still no contact).
    undo = client.post(f"/v1/contact-merges/{merges[0]['id']}/undo", headers=store.headers)
    assert undo.status_code == 200, undo.text
    back = events(client, store, contactId=anonymous_id)
    assert sorted(e["name"] for e in back) == ["Product Added", "Product Viewed", "page"]
    assert client.get(f"/v1/contacts/{anonymous_id}", headers=store.headers).status_code == 404
    assert json_of(client.get("/v1/contacts", headers=store.headers))["totalCount"] == 1


@pytest.mark.parametrize("sdk", list(SDKS))
def test_a_wrong_write_key_is_refused_and_reported(
    sdk: str, server_url: str, client: TestClient, store: StoreFixture
) -> None:
    send, _ = SDKS[sdk]
    calls: list[Call] = [("track", {"userId": "u-1", "event": "Signed Up"})]
    for key in ("cw_wk_not-a-key", store.api_key):  # a secret key is not a write key either
        errors = send(server_url, key, calls)
        assert errors and all("401" in error or "nauthori" in error for error in errors), errors
    assert events(client, store) == []


def test_the_library_retries_after_429_and_nothing_is_lost(
    server_url: str, client: TestClient, store: StoreFixture, db: Database, runtime: Runtime
) -> None:
    with db.transaction() as session:
        stores.set_rate_limit(session, store.store_id, 1.0)  # one request a second
    send = send_python(SegmentClient, upload_size=1)  # one request per call
    calls: list[Call] = [
        ("track", {"userId": "u-429", "event": f"Tick {n}", "messageId": f"tick-{n}"})
        for n in range(3)
    ]
    started = time.monotonic()
    assert send(server_url, store.write_key, calls) == []
    assert time.monotonic() - started >= 1.0  # it waited for Retry-After at least once
    with db.transaction() as session:
        stores.set_rate_limit(session, store.store_id, None)
    runtime.credentials.clear()  # the cached credential carries the old limit
    assert sorted(e["name"] for e in events(client, store)) == ["Tick 0", "Tick 1", "Tick 2"]
