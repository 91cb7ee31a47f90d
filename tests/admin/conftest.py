"""Back-office fixtures: operators, a signed-in test client, a store with one of everything
the pages show, and a real uvicorn server on 127.0.0.1 (port 0) for the browser tests."""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from cartwheel.admin import accounts
from cartwheel.app import build_runtime, create_app
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import (
    ContactMerge,
    Message,
    WebhookDelivery,
    WebhookSubscription,
)
from cartwheel.models.base import utcnow
from cartwheel.segments import schemas as segment_schemas
from cartwheel.segments import service as segments
from cartwheel.stores import service as stores
from tests.conftest import StoreFixture

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True, scope="session")
def _light_argon2() -> Iterator[None]:
    """Operators' passwords here are hashed with argon2id at its lightest (about 1 ms, not
    the production parameters' few hundred on a loaded two-core machine): these tests sign
    in dozens of times. ``test_access.py`` checks what production uses."""
    production = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = production


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class OperatorFixture:
    email: str
    password: str = PASSWORD


def make_operator(db: Database, *store_ids: int) -> OperatorFixture:
    email = f"op-{uuid.uuid4().hex[:10]}@ops.example"
    with db.transaction() as session:
        accounts.create_operator(session, email, PASSWORD, list(store_ids))
    return OperatorFixture(email)


@pytest.fixture
def operator(db: Database, store: StoreFixture) -> OperatorFixture:
    """An operator granted ``store`` (and not ``other_store``)."""
    return make_operator(db, store.store_id)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def browser_client(
    client: TestClient, *, https: bool = False, address: str | None = None
) -> TestClient:
    """A client of its own (its own cookies and client address) on the suite's app."""
    n = uuid.uuid4().int
    address = address or f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250}"
    return TestClient(
        client.app,
        base_url="https://testserver" if https else "http://testserver",
        follow_redirects=False,
        client=(address, 40000),
    )


def sign_in(web: TestClient, who: OperatorFixture, password: str | None = None) -> Any:
    page = web.get("/admin/login")
    assert page.status_code == 200
    return web.post(
        "/admin/login",
        data={
            "csrf": csrf_of(page.text),
            "email": who.email,
            "password": password if password is not None else who.password,
            "next": "/admin",
        },
    )


@dataclass
class SignedInClient:
    web: TestClient
    csrf: str

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.web.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.web.post(url, data={"csrf": self.csrf, **(data or {})}, **kwargs)


def signed_in(client: TestClient, who: OperatorFixture) -> SignedInClient:
    web = browser_client(client)
    answer = sign_in(web, who)
    assert answer.status_code == 303, answer.text
    home = web.get("/admin", follow_redirects=True)
    return SignedInClient(web, csrf_of(home.text))


@pytest.fixture
def admin(client: TestClient, operator: OperatorFixture) -> SignedInClient:
    return signed_in(client, operator)


# -- a store with one of everything ---------------------------------------------------------


@dataclass
class Populated:
    store: StoreFixture
    contact_id: int
    merge_id: int
    merged_id: int
    segment_id: int
    webhook_id: str
    delivery_id: int
    key_id: int
    credential_id: int
    template_id: int
    flow_id: int
    run_id: int
    message_id: int
    campaign_id: int


#: A message as sent, with what the back office must never run inside its own page.
SENT_HTML = (
    '<html><body><p id="hello">Hi Ann, your cart is waiting.</p>'
    "<script>window.parent.document.title='pwned'</script>"
    '<img src="https://tracker.example/p.gif" alt=""></body></html>'
)


def populate(client: TestClient, db: Database, store: StoreFixture) -> Populated:
    """A contact with events and an order, a second contact merged into it, a segment, a
    webhook with a finished delivery, a key and a client credential; a template, a
    published flow with a (test) run of the contact, a message sent to the contact from
    the template, and a scheduled campaign to the segment."""
    tag = uuid.uuid4().hex[:8]
    headers = store.headers
    email = f"ann-{tag}@example.com"
    first = client.post(
        "/v1/events",
        json={
            "name": "Viewed Product",
            "contact": {"email": email, "firstName": "Ann", "externalId": f"ext-{tag}"},
            "properties": {"sku": "TSH-1"},
        },
        headers=headers,
    )
    assert first.status_code == 202, first.text
    contact_id = first.json()["contactId"]
    phone = client.post(
        "/v1/events",
        json={"name": "Signed Up", "contact": {"phone": "+14155550123"}},
        headers=headers,
    )
    merged_id = phone.json()["contactId"]
    both = client.post(
        "/v1/events",
        json={"name": "Linked", "contact": {"email": email, "phone": "+14155550123"}},
        headers=headers,
    )
    assert both.status_code == 202, both.text
    with db.read() as session:
        merge = session.query(ContactMerge).filter_by(store_id=store.store_id).one()
        merge_id = merge.id
        merged_id = merge.source_contact_id
        contact_id = merge.target_contact_id
    with db.transaction() as session:
        segment = segments.create_segment(
            session,
            store.store_id,
            segment_schemas.parse_body(
                {"name": f"Viewers {tag}", "condition": {"event": "Viewed Product"}},
                creating=True,
            ),
        )
        now = utcnow()
        webhook = WebhookSubscription(
            store_id=store.store_id,
            public_id=f"rh_{secrets.randbelow(9 * 10**10) + 10**10}",
            target="http://127.0.0.1:9/hook",
            secret="s3cret-s3cret",
            # Paused, on an event no test sends: nothing of it is ever due, so no delivery
            # task of another test (they serve every store) tries to send its replays.
            events=["booking_created"],
            status="paused",
            created_at=now,
            updated_at=now,
        )
        session.add(webhook)
        session.flush()
        delivery = WebhookDelivery(
            store_id=store.store_id,
            subscription_id=webhook.id,
            message_id=f"msg_{tag}",
            event_type="contact_updated",
            body='{"hello": "world"}',
            status="failed",
            attempts=3,
            last_status_code=500,
            last_latency_ms=12,
            created_at=now,
            completed_at=now,
        )
        session.add(delivery)
        session.flush()
        key = stores.create_key(session, store.store_id, f"key {tag}")
        credential = stores.list_client_credentials(session, store.store_id)[0]
    template = client.post(
        "/v1/templates",
        json={
            "name": f"Welcome {tag}",
            "channel": "email",
            "topic": "transactional",
            "subject": "Welcome, {{ contact.firstName }} ({{ contact.email }})",
            "html": "<p>Hello {{ contact.firstName }} from {{ store.name }}!</p>",
        },
        headers=headers,
    )
    assert template.status_code == 201, template.text
    template_id = template.json()["id"]
    flow = client.post(
        "/v1/flows",
        json={
            "name": f"Welcome flow {tag}",
            "trigger": {"event": "Signed Up"},
            "start": "wait",
            "steps": {
                "wait": {"type": "wait", "for": {"minutes": 10}, "next": "vip"},
                "vip": {
                    "type": "branch",
                    "if": {"profile": "firstName", "op": "eq", "value": "Ann"},
                    "then": "tag",
                    "else": "end",
                },
                "tag": {
                    "type": "update_profile",
                    "set": {"customFields.welcomed": True},
                    "next": "end",
                },
                "end": {"type": "exit"},
            },
        },
        headers=headers,
    )
    assert flow.status_code == 201, flow.text
    flow_id = flow.json()["id"]
    published = client.post(f"/v1/flows/{flow_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    run = client.post(f"/v1/flows/{flow_id}/test", json={"contactId": contact_id}, headers=headers)
    assert run.status_code == 200, run.text
    campaign = client.post(
        "/v1/campaigns",
        json={
            "name": f"Spring sale {tag}",
            "templateId": template_id,
            "segmentId": segment.id,
            "sendAt": "2099-01-01T00:00:00Z",
        },
        headers=headers,
    )
    assert campaign.status_code == 201, campaign.text
    with db.transaction() as session:
        now = utcnow()
        message = Message(
            store_id=store.store_id,
            contact_id=contact_id,
            template_id=template_id,
            channel="email",
            topic="transactional",
            idempotency_key=f"admin-test-{tag}",
            status="sent",
            to_address=email,
            subject="Your cart is waiting",
            html=SENT_HTML,
            text="Hi Ann, your cart is waiting.",
            attempts=1,
            created_at=now,
            sent_at=now,
        )
        session.add(message)
        session.flush()
        result = Populated(
            store,
            contact_id,
            merge_id,
            merged_id,
            segment.id,
            webhook.public_id,
            delivery.id,
            key.id,
            credential.id,
            template_id,
            flow_id,
            run.json()["id"],
            message.id,
            campaign.json()["id"],
        )
    return result


# -- a real server --------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    db: Database


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The app under uvicorn on 127.0.0.1, port 0, in a thread, with a runtime of its own
    on the suite's database (sign-ins from 127.0.0.1 are not rate limited here)."""
    live_settings = settings.model_copy(update={"admin_login_attempts_per_address": 1_000_000})
    runtime = build_runtime(live_settings)
    app = create_app(runtime=runtime, run_worker=False)
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none", lifespan="on")
    server = uvicorn.Server(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", runtime.db)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
        runtime.db.dispose()
