"""The ready order-confirmation flow, from each format's order event to a real SMTP server
on loopback: Omnisend's `paid for order`, Lindris's `order/completed` and `order/created`
(the order record it makes), the tracking spec's `Order Completed`, Redo's `Order Placed`
and `Purchase Completed`, a native order event. (Voucherify's client-side custom event has
no order event; the store data API has no order creation, only updates.) Each order is
confirmed once, even though its event also makes an order record (`order_created`, the
flow's record trigger)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.wire.lindris import examples as lindris
from cartwheel.wire.omnisend.schemas import PAID_FOR_ORDER_EXAMPLE
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Channel, Clock, runs, template


def omnisend(client: TestClient, store: StoreFixture, email: str) -> None:
    body = {**PAID_FOR_ORDER_EXAMPLE, "contact": {"email": email}, "eventID": str(uuid.uuid4())}
    body["properties"] = {**body["properties"], "orderID": f"om-{email}", "orderNumber": "7"}
    answer = client.post("/v5/events", json=body, headers=store.headers)
    assert answer.status_code == 202, answer.text


def lindris_completed(client: TestClient, store: StoreFixture, email: str) -> None:
    example = lindris.LIFECYCLE[("order", "created")]
    body = {k: v for k, v in example.items() if k not in ("test", "silent", "uuid")}
    body.update(email=email, referenceId=f"ref-{email}", id=f"li-{email}")
    answer = client.post("/api/events/order/completed", json=body, headers=store.headers)
    assert answer.status_code == 200, answer.text


def redo(name: str) -> Callable[[TestClient, StoreFixture, str], None]:
    def send(client: TestClient, store: StoreFixture, email: str) -> None:
        body = {"eventName": name, "customer": {"email": email}, "data": {"Order Total": 99.99}}
        answer = client.post(f"/stores/{store.store_id}/events", json=body, headers=store.headers)
        assert answer.status_code == 202, answer.text

    return send


def lindris_created(client: TestClient, store: StoreFixture, email: str) -> None:
    """Lindris's ``order/created``: no order-paid event, but it makes the order record, and
    the record (``order_created``) starts the flow."""
    example = lindris.LIFECYCLE[("order", "created")]
    body = {k: v for k, v in example.items() if k not in ("test", "silent", "uuid")}
    body.update(email=email, referenceId=f"ref-{email}", id=f"lc-{email}")
    answer = client.post("/api/events/order/created", json=body, headers=store.headers)
    assert answer.status_code == 200, answer.text


def segment(client: TestClient, store: StoreFixture, email: str) -> None:
    """The tracking spec's ``Order Completed`` (``POST /v1/track`` with a write key)."""
    body = {
        "type": "track",
        "userId": f"u-{email}",
        "event": "Order Completed",
        "properties": {"order_id": f"sg-{email}", "total": 12.5, "currency": "EUR"},
        "context": {"traits": {"email": email}},
    }
    answer = client.post(
        "/v1/track",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **store.write_headers},
    )
    assert answer.status_code == 200, answer.text


def native(action: str) -> Callable[[TestClient, StoreFixture, str], None]:
    """A native order event: ``paid`` starts the flow by its kind, ``created`` (no paid
    event) by the order record it makes."""

    def send(client: TestClient, store: StoreFixture, email: str) -> None:
        body = {
            "name": f"Order {action}",
            "contact": {"email": email},
            "category": "order",
            "action": action,
            "entity": {"id": f"na-{email}", "total": 59},
        }
        answer = client.post("/v1/events", json=body, headers=store.headers)
        assert answer.status_code == 202, answer.text

    return send


FORMATS: dict[str, Callable[[TestClient, StoreFixture, str], None]] = {
    "omnisend": omnisend,
    "lindris_completed": lindris_completed,
    "lindris_created": lindris_created,
    "segment": segment,
    "redo_order_placed": redo("Order Placed"),
    "redo_purchase_completed": redo("Purchase Completed"),
    "native_paid": native("paid"),
    "native_created": native("created"),
}

#: The order total each format's example carries, as the confirmation shows it.
TOTALS: dict[str, str | None] = {
    "omnisend": "39.98",
    "lindris_completed": "99.99",
    "lindris_created": "99.99",
    "segment": "12.5",
    "redo_order_placed": None,
    "redo_purchase_completed": None,
    "native_paid": "59.0",
    "native_created": "59.0",
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_formats_order_event_sends_one_confirmation(
    client: TestClient,
    db: Database,
    settings: Settings,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    fmt: str,
) -> None:
    confirmation = template(
        client,
        store,
        "Your order, {{ contact.email }}",
        topic="transactional",
        html="<p>Thank you! {% if order %}Order total {{ order.total }}{% endif %}</p>",
        name="Order confirmation",
    )
    enabled = client.post(
        "/v1/flows/ready/order-confirmation", json={"template": confirmation}, headers=store.headers
    )
    assert enabled.status_code == 201, enabled.text
    email = f"{fmt}@confirm.io"
    FORMATS[fmt](client, store, email)
    flow_worker.drain()
    flow_worker.drain()  # the order record's own message, after the event
    [run] = runs(db, enabled.json()["id"])
    assert run.state == "done", run.reason
    rows = channel.sent_to(run.contact_id)
    assert [(r.status, r.template_id, r.subject, r.to_address) for r in rows] == [
        ("sent", confirmation, f"Your order, {email}", email)
    ]
    [mail] = channel.emails(email)
    assert mail.message["Subject"] == f"Your order, {email}"
    # The order record is the template's ``order`` where the format makes one (Redo's custom
    # events make none: the confirmation goes out without it).
    body = mail.message.get_body(("html",))
    assert body is not None
    total = TOTALS[fmt]
    shown = f"Thank you! Order total {total}</p>" if total else "Thank you! </p>"
    assert shown in body.get_content()
