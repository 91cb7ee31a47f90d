"""Settings' SMTP check against a real SMTP server on loopback (aiosmtpd, as
tests/messages use): the test email arrives; a refusal and an unreachable relay are shown
with the relay's error; a bad address is a 422; every check is audited."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.app import build_runtime, create_app
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import AuditEntry
from tests.admin.conftest import OperatorFixture, SignedInClient, signed_in
from tests.conftest import StoreFixture
from tests.messages.conftest import SmtpServer, mail_settings
from tests.messages.conftest import smtp_server as smtp_server  # the fixture


def _app(settings: Settings, db: Database, **update: Any) -> Iterator[TestClient]:
    runtime = build_runtime(settings.model_copy(update=update), db)
    with TestClient(create_app(runtime=runtime, run_worker=False)) as client:
        yield client


@pytest.fixture
def mail_admin(
    settings: Settings, db: Database, smtp_server: SmtpServer, operator: OperatorFixture
) -> Iterator[SignedInClient]:
    """An operator of an app whose relay is the loopback SMTP server."""
    relay = mail_settings(settings, smtp_server.port)
    for client in _app(relay, db):
        yield signed_in(client, operator)


def _checks(db: Database, store_id: int) -> list[dict[str, Any]]:
    with db.read() as session:
        return [
            dict(detail, target=target)
            for target, detail in session.execute(
                select(AuditEntry.target, AuditEntry.detail)
                .where(AuditEntry.store_id == store_id, AuditEntry.action == "smtp.check")
                .order_by(AuditEntry.id)
            )
        ]


def test_the_test_email_reaches_the_relay(
    mail_admin: SignedInClient, smtp_server: SmtpServer, store: StoreFixture, db: Database
) -> None:
    page = mail_admin.get(f"/admin/stores/{store.store_id}/settings")
    assert "Send a test email" in page.text and "127.0.0.1:" in page.text
    answer = mail_admin.post(
        f"/admin/stores/{store.store_id}/settings/smtp-check", data={"to": "Ops@Example.com"}
    )
    assert answer.status_code == 200
    assert "<strong>Sent.</strong>" in answer.text and "accepted the test email" in answer.text
    assert len(smtp_server.received) == 1
    got = smtp_server.received[0]
    assert got.rcpt_tos == ["ops@example.com"]
    assert got.message["Subject"].startswith("Cartwheel SMTP check")
    assert got.message["Message-ID"]
    assert _checks(db, store.store_id)[-1] == {
        "sent": True,
        "error": None,
        "target": "test email to ops@example.com",
    }


def test_a_refusal_is_shown_with_the_relays_answer(
    mail_admin: SignedInClient, smtp_server: SmtpServer, store: StoreFixture, db: Database
) -> None:
    smtp_server.handler.refuse["nobody@example.com"] = "550 5.1.1 No such user here"
    answer = mail_admin.post(
        f"/admin/stores/{store.store_id}/settings/smtp-check", data={"to": "nobody@example.com"}
    )
    assert answer.status_code == 200
    assert "<strong>Not sent.</strong>" in answer.text and "permanent failure" in answer.text
    assert '<code id="smtp-error">550 5.1.1 No such user here</code>' in answer.text
    assert smtp_server.received == []
    assert _checks(db, store.store_id)[-1]["error"] == "550 5.1.1 No such user here"


def test_an_unreachable_relay_is_shown(
    settings: Settings, db: Database, store: StoreFixture, operator: OperatorFixture
) -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    for client in _app(mail_settings(settings, port), db):
        admin = signed_in(client, operator)
        answer = admin.post(
            f"/admin/stores/{store.store_id}/settings/smtp-check", data={"to": "a@example.com"}
        )
        assert answer.status_code == 200
        assert "temporary failure" in answer.text and "ConnectionRefusedError" in answer.text


def test_no_relay_configured_says_so(
    admin: SignedInClient, store: StoreFixture, db: Database
) -> None:
    answer = admin.post(
        f"/admin/stores/{store.store_id}/settings/smtp-check", data={"to": "a@example.com"}
    )
    assert answer.status_code == 200 and "No SMTP relay is configured" in answer.text
    assert _checks(db, store.store_id)[-1]["sent"] is False


def test_a_bad_address_is_a_422_and_nothing_is_sent(
    mail_admin: SignedInClient, smtp_server: SmtpServer, store: StoreFixture, db: Database
) -> None:
    for bad in ("", "not an address", "a@b@c", "x" * 400 + "@example.com"):
        answer = mail_admin.post(
            f"/admin/stores/{store.store_id}/settings/smtp-check", data={"to": bad}
        )
        assert answer.status_code == 422 and "Type the email address" in answer.text, bad
    assert smtp_server.received == []
    assert _checks(db, store.store_id) == []
