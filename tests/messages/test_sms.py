"""SMS through a loopback HTTP receiver that speaks the Twilio Messages API, over the
webhooks' SSRF-guarded client: the form it received, the auth, the sid kept, STOP honoured,
the guard refusing a private provider unless allowed."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.messages import service
from cartwheel.messages.sending import SendTask
from cartwheel.models import ContactConsent, Message, MessageAttempt, Suppression
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture
from tests.messages.helpers import make_contact, make_template

ACCOUNT = "AC0123456789abcdef"
TOKEN = "secret-token"


@dataclass
class Twilio:
    """Answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` as Twilio does."""

    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    #: Number → (status, Twilio error code) to answer instead of 201.
    refuse: dict[str, tuple[int, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        if path != f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json":
            return 404, {"code": 20404, "message": "The requested resource was not found"}
        expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"code": 20003, "message": "Authenticate"}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with self.lock:
            self.received.append(form)
            n = len(self.received)
        if form["To"] in self.refuse:
            status, code = self.refuse[form["To"]]
            return status, {
                "code": code,
                "message": "Attempt to send to unsubscribed recipient",
                "status": status,
            }
        return 201, {
            "sid": f"SM{n:032d}",
            "status": "queued",
            "to": form["To"],
            "from": form["From"],
            "body": form["Body"],
        }


@pytest.fixture
def twilio() -> Iterator[Twilio]:
    fake = Twilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, payload = fake.answer(self.path, self.headers, body)
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def _task(settings: Settings, twilio: Twilio, store_id: int, *, private: bool = True) -> SendTask:
    return SendTask(
        settings.model_copy(
            update={
                "sms_api_url": f"http://127.0.0.1:{twilio.port}",
                "sms_account": ACCOUNT,
                "sms_token": TOKEN,
                "sms_from": "+14155550100",
                "webhook_allow_private": private,
                "smtp_host": "",
            }
        ),
        stores=[store_id],
        background=False,
    )


def _sms_template(db: Database, store_id: int, topic: str = "transactional") -> int:
    return make_template(
        db,
        store_id,
        channel="sms",
        topic=topic,
        subject=None,
        body="Hi {{ contact.firstName }} & co, your code is {{ data.code }}",
        text=None,
    )


def test_an_sms_reaches_the_provider_and_keeps_its_sid(
    db: Database, store: StoreFixture, settings: Settings, twilio: Twilio
) -> None:
    template_id = _sms_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id, phone="+1 (415) 555-0199")
    with db.transaction() as session:
        message_id = service.enqueue_message(
            session,
            store.store_id,
            template_id,
            contact_id,
            idempotency_key="sms1",
            data={"code": "1234"},
        ).id
    assert _task(settings, twilio, store.store_id)(db) == 1
    assert twilio.received == [
        {"To": "+14155550199", "From": "+14155550100", "Body": "Hi Ann & co, your code is 1234"}
    ]
    with db.read() as session:
        message = session.get(Message, message_id)
        assert message is not None
        assert message.status == "sent" and message.provider_id == f"SM{1:032d}"


def test_marketing_sms_needs_consent_and_stop_suppresses(
    db: Database, store: StoreFixture, settings: Settings, twilio: Twilio
) -> None:
    template_id = _sms_template(db, store.store_id, topic="marketing")
    silent = make_contact(db, store.store_id, phone="+14155550101")
    stopped = make_contact(db, store.store_id, phone="+14155550102")
    with db.transaction() as session:
        session.add(
            ContactConsent(
                store_id=store.store_id,
                contact_id=stopped,
                channel="sms",
                topic="marketing",
                granted=True,
                source="api",
            )
        )
        ids = [
            service.enqueue_message(
                session, store.store_id, template_id, c, idempotency_key=f"m{c}"
            ).id
            for c in (silent, stopped)
        ]
    twilio.refuse["+14155550102"] = (400, 21610)
    _task(settings, twilio, store.store_id)(db)
    with db.read() as session:
        statuses = dict(
            session.execute(select(Message.id, Message.status).where(Message.id.in_(ids))).all()
        )
        reason = session.scalar(
            select(Suppression.reason).where(
                Suppression.store_id == store.store_id, Suppression.address == "+14155550102"
            )
        )
    assert statuses == {ids[0]: "skipped", ids[1]: "bounced"}
    assert reason == "sms_stop"
    assert [r["To"] for r in twilio.received] == ["+14155550102"]


def test_the_ssrf_guard_applies_to_the_provider(
    db: Database, store: StoreFixture, settings: Settings, twilio: Twilio
) -> None:
    template_id = _sms_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id, phone="+14155550103")
    with db.transaction() as session:
        message_id = service.enqueue_message(
            session, store.store_id, template_id, contact_id, idempotency_key="guarded"
        ).id
    _task(settings, twilio, store.store_id, private=False)(db)
    assert twilio.received == []
    with db.read() as session:
        message = session.get(Message, message_id)
        attempt = session.scalars(
            select(MessageAttempt).where(MessageAttempt.message_id == message_id)
        ).one()
        assert message is not None and message.status == "queued"  # temporary: retried
        assert attempt.outcome == "temporary" and "127.0.0.1" in (attempt.error or "")


def test_stop_and_start_replies_from_the_provider(
    client: TestClient, runtime: Runtime, db: Database, store: StoreFixture, settings: Settings
) -> None:
    from cartwheel.messages import inbound

    client.put("/v1/messaging/sender", json={"smsFrom": "+1 415 555 0177"}, headers=store.headers)
    signed_settings = settings.model_copy(
        update={"sms_token": TOKEN, "public_url": "https://cartwheel.example.com"}
    )
    url = "https://cartwheel.example.com/v1/sms/inbound"

    def reply(body: str, signature: str | None = None) -> int:
        form = {"From": "+14155550150", "To": "+14155550177", "Body": body, "MessageSid": "SM1"}
        signed = signature or inbound.signature(TOKEN, url, form)
        response = client.post("/v1/sms/inbound", data=form, headers={"X-Twilio-Signature": signed})
        return response.status_code

    def reasons() -> list[str]:
        with db.read() as session:
            return list(
                session.scalars(
                    select(Suppression.reason).where(
                        Suppression.store_id == store.store_id, Suppression.channel == "sms"
                    )
                )
            )

    original = runtime.settings
    runtime.settings = signed_settings
    try:
        assert reply("STOP", signature="forged") == 403
        assert reasons() == []
        assert reply("  stop ") == 200
        assert reasons() == ["sms_stop"]
        assert reply("hello") == 200 and reasons() == ["sms_stop"]
        assert reply("START") == 200
        assert reasons() == []
    finally:
        runtime.settings = original
