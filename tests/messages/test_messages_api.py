"""The message log, the suppression list and the store's sender by API; another store's
key reads, changes and detects nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.messages import service
from tests.conftest import StoreFixture, json_of
from tests.messages.conftest import SmtpServer
from tests.messages.helpers import make_contact, make_template


def test_the_log_lists_filters_and_shows_attempts_and_content(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    template_id = make_template(db, store.store_id)
    ann = make_contact(db, store.store_id)
    bob = make_contact(db, store.store_id, subscribed=False)
    with db.transaction() as session:
        for contact_id in (ann, bob):
            service.enqueue_message(
                session, store.store_id, template_id, contact_id, idempotency_key=f"k{contact_id}"
            )
    sender(store.store_id)(db)

    listed = json_of(client.get("/v1/messages", headers=store.headers))
    assert listed["totalCount"] == 2
    assert [m["contactId"] for m in listed["items"]] == [bob, ann]  # newest first
    only = json_of(
        client.get(f"/v1/messages?contactId={ann}&templateId={template_id}", headers=store.headers)
    )
    [message] = only["items"]
    assert message["status"] == "sent" and message["subject"] == "Hello Ann"
    skipped = json_of(client.get("/v1/messages?status=skipped", headers=store.headers))
    assert [m["contactId"] for m in skipped["items"]] == [bob]

    detail = json_of(client.get(f"/v1/messages/{message['id']}", headers=store.headers))
    assert detail["attemptLog"][0]["outcome"] == "sent"
    assert detail["attemptLog"][0]["code"] == 250
    assert "Hi Ann" in detail["html"] and "Hi Ann" in detail["text"]
    assert detail["messageIdHeader"] == smtp_server.received[0].message["Message-ID"]

    assert client.get("/v1/messages?status=lost", headers=store.headers).status_code == 400
    assert client.get("/v1/messages?contactId=x", headers=store.headers).status_code == 400
    assert (
        client.get(f"/v1/messages/{message['id']}", headers=other_store.headers).status_code == 404
    )
    assert json_of(client.get("/v1/messages", headers=other_store.headers))["totalCount"] == 0
    for bad in ("0", "abc", "99999999999", "1%00"):
        assert client.get(f"/v1/messages/{bad}", headers=store.headers).status_code == 404


def test_suppressions(client: TestClient, store: StoreFixture, other_store: StoreFixture) -> None:
    created = client.post(
        "/v1/suppressions", json={"address": " Ann@Example.COM "}, headers=store.headers
    )
    assert created.status_code == 201, created.text
    row = created.json()
    assert (row["address"], row["channel"], row["reason"]) == ("ann@example.com", "email", "manual")
    again = client.post(
        "/v1/suppressions", json={"address": "ann@example.com"}, headers=store.headers
    )
    assert again.json()["id"] == row["id"]
    phone = json_of(
        client.post(
            "/v1/suppressions",
            json={"channel": "sms", "address": "+1 415 555 0100"},
            headers=store.headers,
        )
    )
    assert phone["address"] == "+14155550100"
    for bad in (
        {"address": "not an email"},
        {"channel": "sms", "address": "abc"},
        {"address": "a@b.co", "reason": "hard feelings"},
    ):
        assert client.post("/v1/suppressions", json=bad, headers=store.headers).status_code == 422
    found = json_of(client.get("/v1/suppressions?address=ANN@example.com", headers=store.headers))
    assert [s["id"] for s in found["items"]] == [row["id"]]
    assert (
        json_of(client.get("/v1/suppressions?channel=sms", headers=store.headers))["totalCount"]
        == 1
    )

    assert json_of(client.get("/v1/suppressions", headers=other_store.headers))["totalCount"] == 0
    assert (
        client.delete(f"/v1/suppressions/{row['id']}", headers=other_store.headers).status_code
        == 404
    )
    assert client.delete(f"/v1/suppressions/{row['id']}", headers=store.headers).status_code == 204
    assert client.delete(f"/v1/suppressions/{row['id']}", headers=store.headers).status_code == 404


def test_the_sender_is_used_in_from_and_reply_to(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    assert json_of(client.get("/v1/messaging/sender", headers=store.headers)) == {
        "fromEmail": None,
        "fromName": None,
        "replyTo": None,
        "smsFrom": None,
    }
    body = {
        "fromEmail": "shop@example.com",
        "fromName": "Ann's Shop",
        "replyTo": "help@example.com",
    }
    saved = client.put("/v1/messaging/sender", json=body, headers=store.headers)
    assert saved.status_code == 200, saved.text
    assert (
        client.put(
            "/v1/messaging/sender", json={"fromEmail": "nope"}, headers=store.headers
        ).status_code
        == 422
    )
    assert (
        client.put(
            "/v1/messaging/sender", json={"fromName": "a\r\nBcc: x@y.z"}, headers=store.headers
        ).status_code
        == 422
    )
    assert (
        json_of(client.get("/v1/messaging/sender", headers=other_store.headers))["fromEmail"]
        is None
    )

    template_id = make_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id)
    with db.transaction() as session:
        service.enqueue_message(
            session, store.store_id, template_id, contact_id, idempotency_key="from"
        )
    sender(store.store_id)(db)
    [got] = smtp_server.received
    assert got.message["From"] == "Ann's Shop <shop@example.com>"
    assert got.message["Reply-To"] == "help@example.com"
    assert got.mail_from == "shop@example.com"
    assert "mailto:shop@example.com?subject=unsubscribe" in str(got.message["List-Unsubscribe"])
