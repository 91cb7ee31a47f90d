"""What the delivery queue logs: the target without its query string or credentials (a
token there must not reach the logs), and every SSRF refusal at delivery time."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.webhooks.delivery import DeliveryTask
from cartwheel.webhooks.guard import loggable_target
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.webhooks.conftest import Clock, Receiver, create_webhook, emit, run


def _logged_text(records: list[logging.LogRecord]) -> str:
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in records)


def test_loggable_target_drops_query_fragment_and_userinfo() -> None:
    assert (
        loggable_target("https://user:pw@hooks.example.com:8443/in/x?token=s3cret#frag")
        == "https://hooks.example.com:8443/in/x"
    )
    assert loggable_target("http://[::1]/hooks?a=1") == "http://[::1]/hooks"


def test_attempts_are_logged_without_the_query_string(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = receiver.url.replace("http://", "http://alice:pa55word@") + "?token=s3cret"
    create_webhook(client, store, target, ["order_created"])
    emit(db, store.store_id, "order_created", {"id": 1})
    with caplog.at_level(logging.DEBUG):
        worker.drain()
    assert len(receiver.delivered) == 1
    text = _logged_text(caplog.records)
    assert "s3cret" not in text and "pa55word" not in text
    # This store's attempts only: the drain runs every store's queues in the test database,
    # so another test's retry that has come due may be attempted in the same drain.
    sent = [
        r
        for r in caplog.records
        if r.getMessage() == "webhook attempt" and r.__dict__["store_id"] == store.store_id
    ]
    assert len(sent) == 1
    assert sent[0].__dict__["target"] == receiver.url
    assert sent[0].__dict__["status_code"] == 200


def test_a_refusal_at_delivery_is_logged(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    settings: Settings,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = receiver.url.replace("127.0.0.1", "localhost") + "?token=s3cret"
    created = create_webhook(client, store, target, ["order_created"])
    client.post(f"/v1/webhooks/{created['id']}/pause", headers=store.headers)
    emit(db, store.store_id, "order_created", {"id": 1})
    worker.drain()
    client.post(f"/v1/webhooks/{created['id']}/resume", headers=store.headers)
    strict = DeliveryTask(
        settings.model_copy(update={"webhook_allow_private": False}), clock=Clock()
    )
    with caplog.at_level(logging.INFO):
        run(strict, db)
    strict.close()
    assert receiver.requests == []
    # Other tests' deliveries may be pending in the same database: look at this store's only.
    refused = [
        r
        for r in caplog.records
        if r.getMessage() == "webhook target refused" and r.__dict__["store_id"] == store.store_id
    ]
    assert len(refused) == 1
    assert refused[0].levelno == logging.WARNING
    assert refused[0].__dict__["target"] == receiver.url.replace("127.0.0.1", "localhost")
    assert "private or loopback address" in refused[0].__dict__["reason"]
    assert "s3cret" not in _logged_text(caplog.records)
