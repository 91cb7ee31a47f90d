"""The ready order-confirmation flow, from each format's order event to a real SMTP server
on loopback: Omnisend's `paid for order`, Lindris's `order/completed`, Redo's `Order
Placed` and `Purchase Completed`, a native order event. Each order is confirmed once, even
though its event also makes an order record (`order_created`, the flow's record trigger)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.messages.sending import SendTask
from cartwheel.wire.lindris import examples as lindris
from cartwheel.wire.omnisend.schemas import PAID_FOR_ORDER_EXAMPLE
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Clock, runs
from tests.messages.conftest import SmtpServer, mail_settings
from tests.messages.helpers import make_template


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


def native(client: TestClient, store: StoreFixture, email: str) -> None:
    body = {
        "name": "Order Paid",
        "contact": {"email": email},
        "category": "order",
        "action": "paid",
        "entity": {"id": f"na-{email}", "total": 59},
    }
    answer = client.post("/v1/events", json=body, headers=store.headers)
    assert answer.status_code == 202, answer.text


FORMATS: dict[str, Callable[[TestClient, StoreFixture, str], None]] = {
    "omnisend": omnisend,
    "lindris": lindris_completed,
    "redo_order_placed": redo("Order Placed"),
    "redo_purchase_completed": redo("Purchase Completed"),
    "native": native,
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_formats_order_event_sends_one_confirmation(
    client: TestClient,
    db: Database,
    settings: Settings,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    smtp_server: SmtpServer,
    fmt: str,
) -> None:
    template = make_template(
        db,
        store.store_id,
        name="Order confirmation",
        topic="transactional",
        subject="Your order, {{ contact.email }}",
        body="<p>Thank you! {% if order %}Order {{ order.total }}{% endif %}</p>",
    )
    enabled = client.post(
        "/v1/flows/ready/order-confirmation", json={"template": template}, headers=store.headers
    )
    assert enabled.status_code == 201, enabled.text
    email = f"{fmt}@confirm.io"
    FORMATS[fmt](client, store, email)
    flow_worker.drain()
    flow_worker.drain()  # the order record's own message, after the event
    [run] = runs(db, enabled.json()["id"])
    assert run.state == "done", run.reason
    send = SendTask(mail_settings(settings, smtp_server.port), stores=[store.store_id])
    while send(db):
        pass
    received = [r for r in smtp_server.received if email in r.rcpt_tos]
    assert len(received) == 1, [r.message["Subject"] for r in received]
    assert received[0].message["Subject"] == f"Your order, {email}"
