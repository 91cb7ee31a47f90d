"""Sending through a real SMTP server on loopback: what it received, and what the message
log says, for every outcome."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.messages import consent, links, service
from cartwheel.models import Message, MessageAttempt, Suppression
from cartwheel.models.base import utcnow
from tests.conftest import StoreFixture
from tests.messages.conftest import PUBLIC_URL, SmtpServer
from tests.messages.helpers import make_contact, make_template


def _queue(db: Database, store_id: int, template_id: int, contact_id: int, key: str) -> int:
    with db.transaction() as session:
        return service.enqueue_message(
            session, store_id, template_id, contact_id, idempotency_key=key
        ).id


def _message(db: Database, message_id: int) -> tuple[Message, list[MessageAttempt]]:
    with db.read() as session:
        message = session.get(Message, message_id)
        assert message is not None
        attempts = list(
            session.scalars(
                select(MessageAttempt)
                .where(MessageAttempt.message_id == message_id)
                .order_by(MessageAttempt.id)
            )
        )
        session.expunge_all()
        return message, attempts


def test_marketing_email_headers_parts_and_unsubscribe(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id, email="ann@example.com")
    message_id = _queue(db, store.store_id, template_id, contact_id, "k1")

    assert sender(store.store_id)(db) == 1

    [got] = smtp_server.received
    mail = got.message
    assert got.rcpt_tos == ["ann@example.com"]
    assert got.mail_from == "noreply@cartwheel.example.com"
    assert mail["To"] == "ann@example.com"
    assert mail["Subject"] == "Hello Ann"
    assert mail["From"] == "Cartwheel Test <noreply@cartwheel.example.com>"
    unsubscribe = str(mail["List-Unsubscribe"])
    https, mailto = [part.strip(" <>") for part in unsubscribe.split(",")]
    assert https.startswith(f"{PUBLIC_URL}/v1/unsubscribe/")
    assert mailto == "mailto:noreply@cartwheel.example.com?subject=unsubscribe"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = https.rsplit("/", 1)[1]
    claims = links.read_unsubscribe(token)
    assert claims is not None
    assert (claims.store_id, claims.contact_id, claims.channel, claims.topic) == (
        store.store_id,
        contact_id,
        "email",
        "marketing",
    )
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert "Hi Ann" in text.get_content()
    assert "Sale (https://shop.example.com/sale?a=1&b=2)" in text.get_content()
    html_content = html.get_content()
    assert '<p style="color: #123456;">Hi Ann</p>' in html_content
    assert "<style>" not in html_content

    message, attempts = _message(db, message_id)
    assert message.status == "sent" and message.sent_at is not None
    assert message.message_id_header == mail["Message-ID"]
    assert [a.outcome for a in attempts] == ["sent"]
    assert message.html == html_content.rstrip("\n") or message.html in html_content


def test_transactional_has_no_unsubscribe_header_and_ignores_marketing_consent(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id, topic="transactional")
    contact_id = make_contact(db, store.store_id, subscribed=False)
    marketing_id = make_template(db, store.store_id)
    sent = _queue(db, store.store_id, template_id, contact_id, "t")
    skipped = _queue(db, store.store_id, marketing_id, contact_id, "m")

    sender(store.store_id)(db)

    [got] = smtp_server.received
    assert got.message["List-Unsubscribe"] is None
    assert _message(db, sent)[0].status == "sent"
    message, attempts = _message(db, skipped)
    assert message.status == "skipped" and attempts == []
    assert message.last_error == "The contact has not consented to email marketing."


def test_a_suppressed_address_receives_nothing_not_even_transactional(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id, topic="transactional")
    contact_id = make_contact(db, store.store_id, email="gone@example.com")
    with db.transaction() as session:
        consent.suppress(session, store.store_id, "email", "gone@example.com", "manual", None)
    message_id = _queue(db, store.store_id, template_id, contact_id, "s")

    sender(store.store_id)(db)

    assert smtp_server.received == []
    message, _ = _message(db, message_id)
    assert message.status == "skipped"
    assert message.last_error == "The address is suppressed (manual)."


def test_a_permanent_refusal_bounces_once_and_suppresses_the_address(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id, email="nobody@example.com")
    smtp_server.handler.refuse["nobody@example.com"] = "550 5.1.1 No such user"
    message_id = _queue(db, store.store_id, template_id, contact_id, "p")
    task = sender(store.store_id)

    task(db)
    assert task(db) == 0  # no retry

    message, attempts = _message(db, message_id)
    assert message.status == "bounced"
    assert [(a.outcome, a.code) for a in attempts] == [("permanent", 550)]
    assert "No such user" in (message.last_error or "")
    with db.read() as session:
        reasons = session.scalars(
            select(Suppression.reason).where(
                Suppression.store_id == store.store_id,
                Suppression.address == "nobody@example.com",
            )
        ).all()
    assert reasons == ["hard_bounce"]


def test_a_temporary_refusal_is_retried_with_backoff_then_sent(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id, email="later@example.com")
    smtp_server.handler.refuse["later@example.com"] = "451 4.7.1 Try again later"
    message_id = _queue(db, store.store_id, template_id, contact_id, "r")
    now = [utcnow()]
    task = sender(store.store_id)
    task.clock = lambda: now[0]

    task(db)
    message, attempts = _message(db, message_id)
    assert message.status == "queued"
    assert message.next_attempt_at is not None
    assert message.next_attempt_at >= now[0] + timedelta(seconds=4)
    assert task(db) == 0  # not due yet

    del smtp_server.handler.refuse["later@example.com"]
    now[0] += timedelta(seconds=6)
    assert task(db) == 1
    message, attempts = _message(db, message_id)
    assert message.status == "sent"
    assert [(a.outcome, a.code) for a in attempts] == [("temporary", 451), ("sent", 250)]
    assert len(smtp_server.received) == 1


def test_a_refused_connection_is_temporary_and_tries_run_out(
    db: Database, store: StoreFixture, settings: Any
) -> None:
    from cartwheel.messages.sending import SendTask
    from tests.messages.conftest import mail_settings

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    template_id = make_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id)
    message_id = _queue(db, store.store_id, template_id, contact_id, "c")
    now = [utcnow()]
    task = SendTask(
        mail_settings(settings, port, queue_max_attempts=2),
        stores=[store.store_id],
        background=False,
    )
    task.clock = lambda: now[0]

    task(db)
    assert _message(db, message_id)[0].status == "queued"
    now[0] += timedelta(hours=2)
    task(db)
    message, attempts = _message(db, message_id)
    assert message.status == "failed"
    assert [a.outcome for a in attempts] == ["temporary", "temporary"]
    assert "ConnectionRefusedError" in (attempts[0].error or "")


def test_a_crash_mid_send_shows_as_interrupted_and_sends_again_under_the_same_id(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id)
    message_id = _queue(db, store.store_id, template_id, contact_id, "x")
    now = [utcnow()]
    crashed = sender(store.store_id)
    crashed.clock = lambda: now[0]
    [claimed] = crashed.claim(db)
    crashed.send([claimed])  # it left, and the sender died before recording it

    task = sender(store.store_id)
    task.clock = lambda: now[0]
    assert task(db) == 0  # the lease still holds
    now[0] += timedelta(seconds=task.lease_seconds + 1)
    assert task(db) == 1

    message, attempts = _message(db, message_id)
    assert message.status == "sent"
    assert [a.outcome for a in attempts] == ["interrupted", "sent"]
    first, second = smtp_server.received
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert (
        first.message.get_body(("html",)).get_content()
        == second.message.get_body(("html",)).get_content()
    )


def test_the_same_idempotency_key_sends_once(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id)
    first = _queue(db, store.store_id, template_id, contact_id, "same")
    task = sender(store.store_id)
    task(db)
    assert _queue(db, store.store_id, template_id, contact_id, "same") == first
    task(db)
    assert len(smtp_server.received) == 1


def test_a_batch_out_of_time_gives_its_rest_back_untried(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id)
    ids = [
        _queue(db, store.store_id, template_id, make_contact(db, store.store_id), f"t{n}")
        for n in range(3)
    ]
    # A lease no longer than two timeouts leaves no time to start any send.
    task = sender(store.store_id, smtp_connections=1)
    task.lease_seconds = 2 * task.settings.smtp_timeout
    assert task(db) == 3
    assert smtp_server.received == []
    for message_id in ids:
        message, attempts = _message(db, message_id)
        assert (message.status, message.attempts, attempts) == ("queued", 0, [])
    assert sender(store.store_id)(db) == 3
    assert len(smtp_server.received) == 3


def test_in_the_worker_a_batch_is_sent_on_its_own_thread(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, settings: Any
) -> None:
    from cartwheel.messages.sending import SendTask
    from tests.messages.conftest import mail_settings

    template_id = make_template(db, store.store_id)
    ids = [
        _queue(db, store.store_id, template_id, make_contact(db, store.store_id), f"w{n}")
        for n in range(5)
    ]
    task = SendTask(mail_settings(settings, smtp_server.port), stores=[store.store_id])
    try:
        assert task(db) == 5  # claimed and handed to the sending thread
        for _ in range(200):  # the worker loop calls it again until it is idle
            if task(db) == 0:
                break
        assert all(_message(db, i)[0].status == "sent" for i in ids)
        assert len(smtp_server.received) == 5
    finally:
        task.close()


def test_the_wire_format_survives_non_ascii_long_lines_and_awkward_text(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    long_word = "x" * 120
    template_id = make_template(
        db,
        store.store_id,
        topic="transactional",
        from_email="shop@example.com",
        from_name="Café Ünïcode",
        subject="Grüße {{ contact.firstName }}, your order is on its way to you today 📦 "
        + "and it will arrive soon",
        body=f"<p>{'word ' * 40}</p><p>a=b =_cw00 =3D {long_word}</p><pre>x\n.dot\n</pre>",
        text="Line one\n.starts with a dot\n{{ contact.firstName }} = ünï\n" + long_word,
    )
    contact_id = make_contact(db, store.store_id, email="ann@example.com", first_name="Zoë\r\nX: y")
    _queue(db, store.store_id, template_id, contact_id, "wire")

    assert sender(store.store_id)(db) == 1

    [got] = smtp_server.received
    mail = got.message
    assert mail["Subject"] == (
        "Grüße Zoë X: y, your order is on its way to you today 📦 and it will arrive soon"
    )
    assert mail["From"].addresses[0].display_name == "Café Ünïcode"
    assert mail["From"].addresses[0].addr_spec == "shop@example.com"
    assert mail["X"] is None  # a value cannot start a header of its own
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    # Line ends are CRLF on the wire, as MIME's canonical form wants.
    assert text.get_content().replace("\r\n", "\n") == (
        f"Line one\n.starts with a dot\nZoë\nX: y = ünï\n{long_word}"
    )
    assert f"a=b =_cw00 =3D {long_word}" in html.get_content()
    assert "x\n.dot\n" in html.get_content().replace("\r\n", "\n")
    head, _, body = got.raw.partition(b"\r\n\r\n")
    assert all(len(line) <= 78 for line in head.split(b"\r\n")), head
    assert all(len(line) <= 78 for line in body.split(b"\r\n")), body
    assert b"\n" not in got.raw.replace(b"\r\n", b"")


def test_a_late_record_under_a_lost_lease_changes_only_its_attempt(
    db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    template_id = make_template(db, store.store_id)
    contact_id = make_contact(db, store.store_id)
    message_id = _queue(db, store.store_id, template_id, contact_id, "late")
    now = [utcnow()]
    slow, task = sender(store.store_id), sender(store.store_id)
    slow.clock = task.clock = lambda: now[0]
    [first] = slow.claim(db)
    late = slow.send([first])  # sent, but not recorded before the lease ran out
    now[0] += timedelta(seconds=slow.lease_seconds + 1)
    [second] = task.claim(db)
    sent_again = task.send([second])

    slow.record(db, late)
    message, attempts = _message(db, message_id)
    assert (message.status, message.lease) == ("sending", second.lease)  # the new owner's
    assert [a.outcome for a in attempts] == ["sent", None]  # what the first try did

    task.record(db, sent_again)
    message, attempts = _message(db, message_id)
    assert (message.status, message.lease, message.attempts) == ("sent", None, 2)
    assert [a.outcome for a in attempts] == ["sent", "sent"]  # two sends, both in the log
    assert len(smtp_server.received) == 2
