"""Targets on private, loopback and link-local addresses: refused when saved and again when
sent (after DNS resolution), with settings that do not allow private targets."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cartwheel.app import build_runtime, create_app
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import WebhookSubscription
from cartwheel.webhooks import guard
from cartwheel.webhooks.delivery import DeliveryTask
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of
from tests.webhooks.conftest import Clock, Receiver, create_webhook, deliveries, emit, run


@pytest.fixture(scope="module")
def strict_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private": False})


@pytest.fixture(scope="module")
def strict_client(strict_settings: Settings, db: Database) -> Iterator[TestClient]:
    """The API with webhook_allow_private=False (the production default)."""
    runtime = build_runtime(strict_settings, db)
    with TestClient(create_app(runtime=runtime, run_worker=False)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://172.16.0.1/hooks",
        "http://192.168.1.10/hooks",
        "http://100.64.0.1/hooks",
        "http://0.0.0.0/hooks",
        "http://[::1]/hooks",
        "http://[fd00::1]/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
    ],
)
def test_private_targets_are_refused_at_creation(
    strict_client: TestClient, store: StoreFixture, target: str
) -> None:
    response = strict_client.post(
        "/v1/webhooks", json={"target": target, "events": ["order_created"]}, headers=store.headers
    )
    assert response.status_code == 422
    message = json_of(response)["errors"]["target"][0]
    assert message.startswith("The target resolves to a private or loopback address (")
    assert message.endswith("); such targets are not allowed.")


def test_private_target_is_refused_on_update(
    strict_client: TestClient, store: StoreFixture
) -> None:
    created = create_webhook(strict_client, store, "http://93.184.215.14/hooks", ["order_created"])
    response = strict_client.put(
        f"/v1/webhooks/{created['id']}", json={"target": "http://10.0.0.1/"}, headers=store.headers
    )
    assert response.status_code == 422
    assert "private or loopback" in json_of(response)["message"]


def test_link_local_is_refused_at_creation(strict_client: TestClient, store: StoreFixture) -> None:
    response = strict_client.post(
        "/v1/webhooks",
        json={"target": "http://169.254.169.254/latest/meta-data/", "events": ["order_created"]},
        headers=store.headers,
    )
    assert response.status_code == 422
    assert json_of(response)["message"] == (
        "The target resolves to a link-local address (169.254.169.254); "
        "such targets are never allowed."
    )


def test_public_targets_are_accepted(strict_client: TestClient, store: StoreFixture) -> None:
    for target in ("http://93.184.215.14/hooks", "https://[2606:4700:4700::1111]/hooks"):
        create_webhook(strict_client, store, target, ["order_created"])


def test_private_target_is_refused_at_delivery_after_resolution(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    strict_settings: Settings,
    receiver: Receiver,
) -> None:
    # Saved while private targets were allowed; the name is resolved again when sending
    # (as after a DNS change) and the worker that does not allow them refuses to connect.
    target = receiver.url.replace("127.0.0.1", "localhost")
    created = create_webhook(client, store, target, ["order_created"])
    client.post(f"/v1/webhooks/{created['id']}/pause", headers=store.headers)
    emit(db, store.store_id, "order_created", {"id": 1})
    worker.drain()
    client.post(f"/v1/webhooks/{created['id']}/resume", headers=store.headers)
    strict = DeliveryTask(strict_settings, clock=Clock())
    run(strict, db)
    strict.close()
    assert receiver.requests == []
    item = deliveries(client, store, created["id"])["items"][0]
    assert item["status"] == "pending" and item["responseCode"] is None
    assert "private or loopback address" in item["error"]


def test_link_local_is_refused_at_delivery_even_when_private_is_allowed(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    created = create_webhook(client, store, receiver.url, ["order_created"])
    # The stored target now points at the metadata service (as a DNS answer could).
    with db.transaction() as session:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.public_id == created["id"])
            .values(target="http://169.254.169.254/latest/meta-data/")
        )
    emit(db, store.store_id, "order_created", {"id": 1})
    worker.drain()
    item = deliveries(client, store, created["id"])["items"][0]
    assert item["status"] == "pending"
    assert item["error"] == (
        "The target resolves to a link-local address (169.254.169.254); "
        "such targets are never allowed."
    )


@pytest.mark.parametrize(
    ("address", "private", "never"),
    [
        ("8.8.8.8", False, False),
        ("2606:4700:4700::1111", False, False),
        ("127.0.0.1", True, False),
        ("10.0.0.1", True, False),
        ("100.64.0.1", True, False),
        ("0.0.0.0", True, False),
        ("::1", True, False),
        ("::", True, False),
        ("fd00::1", True, False),
        ("::ffff:192.168.0.1", True, False),
        ("169.254.169.254", False, True),
        ("169.254.0.1", False, True),
        ("fe80::1", False, True),
        ("::ffff:169.254.169.254", False, True),
        ("64:ff9b::a9fe:a9fe", False, True),
        ("2002:a9fe:a9fe::1", False, True),
        ("224.0.0.1", False, True),
        ("ff02::1", False, True),
    ],
)
def test_address_policy(address: str, private: bool, never: bool) -> None:
    ip = ipaddress.ip_address(address)
    for allow_private in (True, False):
        refused = never or (private and not allow_private)
        if refused:
            with pytest.raises(guard.TargetRefused):
                guard.check_address(ip, allow_private)
        else:
            guard.check_address(ip, allow_private)


@pytest.mark.parametrize(
    ("address", "private", "never"),
    [
        # IPv4-compatible (::a.b.c.d, deprecated but still parsed and routed by some stacks)
        ("::127.0.0.1", True, False),
        ("::10.0.0.1", True, False),
        ("::169.254.169.254", False, True),
        ("::8.8.8.8", False, False),
        # IPv4-mapped and IPv4-translated
        ("::ffff:127.0.0.1", True, False),
        ("::ffff:0:127.0.0.1", True, False),
        ("::ffff:0:169.254.169.254", False, True),
        # NAT64, well-known and local-use prefixes (RFC 6052 positions)
        ("64:ff9b::7f00:1", True, False),
        ("64:ff9b::808:808", False, False),
        ("64:ff9b:1::7f00:1", True, False),
        ("64:ff9b:1:7f00:0:100::", True, False),
        ("64:ff9b:1:a9fe:a9:fe00::", False, True),
        # 6to4
        ("2002:7f00:1::1", True, False),
        ("2002:808:808::1", False, False),
        # Teredo: server 65.54.227.120, client 127.0.0.1 (stored inverted) and 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", True, False),
        ("2001:0:4136:e378:8000:63bf:5601:5601", False, True),
        # ISATAP-style interface identifiers, in a public prefix
        ("2606:4700::5efe:7f00:1", True, False),
        ("2606:4700::200:5efe:a9fe:a9fe", False, True),
        ("2606:4700::5efe:808:808", False, False),
    ],
)
def test_embedded_ipv4_is_judged(address: str, private: bool, never: bool) -> None:
    ip = ipaddress.ip_address(address)
    for allow_private in (True, False):
        if never or (private and not allow_private):
            with pytest.raises(guard.TargetRefused):
                guard.check_address(ip, allow_private)
        else:
            guard.check_address(ip, allow_private)


def test_ipv4_compatible_loopback_is_refused_at_creation(
    strict_client: TestClient, store: StoreFixture
) -> None:
    response = strict_client.post(
        "/v1/webhooks",
        json={"target": "http://[::127.0.0.1]/hooks", "events": ["order_created"]},
        headers=store.headers,
    )
    assert response.status_code == 422
    assert "private or loopback address (::7f00:1)" in json_of(response)["errors"]["target"][0]
