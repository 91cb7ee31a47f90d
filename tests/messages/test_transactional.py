"""The messages the documents promise: the member password reset (with its single-use,
expiring link), the digital-content email on COMPLETED, the order status email on
notifyCustomer; through the worker, to a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from cartwheel.db import Database
from cartwheel.models import Member, MemberPasswordReset, Order, OrderItem
from cartwheel.models.base import utcnow
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of
from tests.messages.conftest import PUBLIC_URL, SmtpServer
from tests.records.lifecycle import lifecycle, submit
from tests.records.test_order_events import ORDER


def test_a_member_without_a_password_gets_a_reset_link_that_works_once(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    worker: Worker,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    response = client.post(
        "/v1/members",
        json={"name": "Ann Member", "email": "Ann@Example.com"},
        headers=store.headers,
    )
    assert response.status_code == 201, response.text
    worker.drain()  # the outbox handler queues the email
    assert sender(store.store_id)(db) == 1

    [got] = smtp_server.received
    assert got.rcpt_tos == ["ann@example.com"]
    assert got.message["List-Unsubscribe"] is None
    html = got.message.get_body(("html",)).get_content()
    text = got.message.get_body(("plain",)).get_content()
    assert "Hello Ann Member" in html
    link = re.search(r'href="([^"]+)"', html)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert url.startswith(f"{PUBLIC_URL}/v1/password-reset?token=")
    assert url in text
    token = url.split("token=", 1)[1]

    page = client.get(f"/v1/password-reset?token={token}")
    assert page.status_code == 200 and 'type="password"' in page.text
    reset = client.post("/v1/password-reset", json={"token": token, "password": "correct horse"})
    assert reset.status_code == 204, reset.text
    with db.read() as session:
        member = session.scalars(select(Member).where(Member.store_id == store.store_id)).one()
        assert member.password_hash
        assert PasswordHasher().verify(member.password_hash, "correct horse")

    again = client.post("/v1/password-reset", json={"token": token, "password": "another one"})
    assert again.status_code == 400
    assert again.json()["message"] == "The link is invalid, was already used, or has expired."
    forged = client.post(
        "/v1/password-reset", json={"token": token[:-2] + "xx", "password": "x" * 9}
    )
    assert forged.status_code == 400


def test_an_expired_reset_link_is_refused_and_a_form_post_gets_a_page(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    worker: Worker,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    client.post("/v1/members", json={"name": "B", "email": "b@example.com"}, headers=store.headers)
    worker.drain()
    sender(store.store_id)(db)
    html = smtp_server.received[0].message.get_body(("html",)).get_content()
    token = html.split("token=", 1)[1].split('"', 1)[0]
    with db.transaction() as session:
        session.execute(
            update(MemberPasswordReset)
            .where(MemberPasswordReset.store_id == store.store_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = client.post("/v1/password-reset", data={"token": token, "password": "long enough"})
    assert response.status_code == 400
    assert "has expired" in response.text and response.headers["content-type"].startswith(
        "text/html"
    )
    short = client.post("/v1/password-reset", json={"token": token, "password": "short"})
    assert short.status_code == 422


def test_completed_order_with_digital_lines_sends_the_content_email_once(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    worker: Worker,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    submit(runtime, worker, lifecycle(store.store_id, "order", "created", ORDER))
    with db.transaction() as session:
        order = session.scalars(select(Order).where(Order.store_id == store.store_id)).one()
        session.execute(
            update(OrderItem)
            .where(OrderItem.order_id == order.id, OrderItem.name == "Mug")
            .values(type="digital", url="https://store.example.com/download/mug")
        )
        order_id = order.id
    task = sender(store.store_id)
    for status in ("COMPLETED", "SHIPPED", "COMPLETED"):
        response = client.put(
            f"/v1/orders/{order_id}", json={"status": status}, headers=store.headers
        )
        assert response.status_code == 200, response.text
        worker.drain()
        task(db)
    [got] = smtp_server.received
    assert got.rcpt_tos == ["john@example.com"]  # the order's customer email
    assert got.message["Subject"] == "Your downloads for order 1001"
    html = got.message.get_body(("html",)).get_content()
    assert 'href="https://store.example.com/download/mug"' in html
    assert "Awesome T-Shirt" not in html


def test_notify_customer_sends_the_order_status_email_each_time(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    worker: Worker,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    submit(runtime, worker, lifecycle(store.store_id, "order", "created", ORDER))
    order_id = json_of(client.get("/v1/orders", headers=store.headers))["items"][0]["id"]
    client.put(f"/v1/orders/{order_id}", json={"status": "SHIPPED"}, headers=store.headers)
    client.put(
        f"/v1/orders/{order_id}",
        json={"status": "SHIPPED", "notifyCustomer": True},
        headers=store.headers,
    )
    worker.drain()
    # An override the store wrote replaces Cartwheel's default.
    client.post(
        "/v1/templates",
        headers=store.headers,
        json={
            "name": "mine",
            "channel": "email",
            "key": "order_status",
            "subject": "Order {{ order.invoiceNo }} now {{ order.status | upcase }}",
            "html": "<p>{{ order.lines | size }} lines</p>",
        },
    )
    client.put(
        f"/v1/orders/{order_id}",
        json={"status": "COMPLETED", "notifyCustomer": True},
        headers=store.headers,
    )
    worker.drain()
    sender(store.store_id)(db)
    subjects = sorted(str(r.message["Subject"]) for r in smtp_server.received)
    assert subjects == ["Order 1001 now COMPLETED", "Order 1001: shipped"]
    listed = json_of(client.get("/v1/messages?status=sent", headers=store.headers))
    assert {m["templateKey"] for m in listed["items"]} == {"order_status"}
    assert listed["totalCount"] == 2
