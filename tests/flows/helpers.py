"""Flow test helpers: a clock tests move by hand, events through the real writer, templates
made through the templates API, and the real messages channel seen from outside: the
``messages`` rows a store's flows queued and what the loopback SMTP server and SMS provider
received once the messages send task ran."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import select

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.flows import engine, triggers
from cartwheel.messages.sending import SendTask
from cartwheel.models import Event, FlowRun, FlowRunStep, Message, PendingEvent
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture
from tests.messages.conftest import Received, SmtpServer, mail_settings
from tests.messages.test_sms import ACCOUNT as SMS_ACCOUNT
from tests.messages.test_sms import TOKEN as SMS_TOKEN
from tests.messages.test_sms import Twilio
from tests.segments import helpers as segment_helpers


class Clock:
    """Now, as the test says (starts at a whole hour in the future of the real clock)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> datetime:
        self.now += timedelta(**span)
        return self.now


@dataclass(frozen=True)
class Sent:
    """One row of the ``messages`` table, as a test reads it."""

    id: int
    contact_id: int | None
    template_id: int | None
    channel: str
    topic: str
    status: str
    subject: str | None
    text: str | None
    to_address: str | None
    reason: str | None
    idempotency_key: str
    context: dict[str, Any]


@dataclass
class Channel:
    """The messages channel of one store, for real: :meth:`deliver` runs the messages send
    task (its claims, consent and suppression checks, rendering) against the loopback SMTP
    server and SMS provider; the rest reads what happened."""

    db: Database
    store_id: int
    settings: Settings
    smtp: SmtpServer
    sms: Twilio

    def deliver(self) -> int:
        """Send every due message of the store; how many the send task handled."""
        task = SendTask(self.settings, stores=[self.store_id], background=False)
        handled = 0
        try:
            while (done := task(self.db)) > 0:
                handled += done
        finally:
            task.close()
        return handled

    def rows(self, contact_id: int | None = None) -> list[Sent]:
        """The store's ``messages`` rows (of one contact), oldest first."""
        query = select(Message).where(Message.store_id == self.store_id).order_by(Message.id)
        if contact_id is not None:
            query = query.where(Message.contact_id == contact_id)
        with self.db.read() as session:
            return [
                Sent(
                    m.id,
                    m.contact_id,
                    m.template_id,
                    m.channel,
                    m.topic,
                    m.status,
                    m.subject,
                    m.text,
                    m.to_address,
                    m.last_error,
                    m.idempotency_key,
                    m.context,
                )
                for m in session.scalars(query)
            ]

    def sent_to(self, contact_id: int) -> list[Sent]:
        """Deliver what is due, then the contact's rows."""
        self.deliver()
        return self.rows(contact_id)

    def emails(self, address: str) -> list[Received]:
        """What the loopback SMTP server received for ``address``."""
        return [r for r in self.smtp.received if address in r.rcpt_tos]

    def texts(self, number: str) -> list[dict[str, Any]]:
        """What the loopback SMS provider received for ``number``."""
        return [r for r in self.sms.received if r["To"] == number]


def channel_settings(settings: Settings, smtp: SmtpServer, sms: Twilio) -> Settings:
    """The test settings with email through the loopback SMTP server and SMS through the
    loopback provider."""
    return mail_settings(
        settings,
        smtp.port,
        sms_api_url=f"http://127.0.0.1:{sms.port}",
        sms_account=SMS_ACCOUNT,
        sms_token=SMS_TOKEN,
        sms_from="+14155550100",
        webhook_allow_private=True,
    )


def template(
    client: TestClient,
    store: StoreFixture,
    subject: str = "Hello {{ contact.email }}",
    *,
    channel: str = "email",
    topic: str = "marketing",
    html: str = "<p>Hi {{ contact.email }}</p>",
    text: str | None = None,
    name: str = "Flow message",
) -> int:
    """Make a template through ``POST /v1/templates``; returns its id."""
    body: dict[str, Any] = {"name": name, "channel": channel, "topic": topic}
    if channel == "email":
        body.update(subject=subject, html=html)
        if text is not None:
            body["text"] = text
    else:
        body["text"] = text or subject
    answer = client.post("/v1/templates", json=body, headers=store.headers)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def track(
    runtime: Runtime,
    store_id: int,
    email: str,
    name: str,
    *,
    at: datetime,
    **kw: Any,
) -> int:
    """Store one event through the writer (the segments tests' helper, with the time
    required); returns the contact id."""
    return segment_helpers.track(runtime, store_id, email, name, at=at, **kw)


def cart(runtime: Runtime, store_id: int, email: str, cart_id: str, at: datetime, **kw: Any) -> int:
    kw.setdefault("fields", {"subscribed": True})
    return track(
        runtime,
        store_id,
        email,
        "cart updated",
        at=at,
        category="cart",
        action="updated",
        entity={"id": cart_id, "total": 50.0},
        **kw,
    )


def order(
    runtime: Runtime, store_id: int, email: str, at: datetime, cart_id: str | None = None, **kw: Any
) -> int:
    properties = {"cartId": cart_id} if cart_id is not None else {}
    return track(
        runtime,
        store_id,
        email,
        "order created",
        at=at,
        category="order",
        action="created",
        entity={"id": f"o-{at.timestamp()}", "total": 50.0, "status": "pending"},
        properties=properties,
        **kw,
    )


#: A browse-abandonment flow: a run per product viewed, waiting an hour.
BROWSE: dict[str, Any] = {
    "name": "Browse abandonment",
    "trigger": {"event": "Viewed Product", "key": "properties.sku"},
    "start": "wait",
    "steps": {
        "wait": {"type": "wait", "for": {"hours": 1}, "next": "end"},
        "end": {"type": "exit"},
    },
}


def publish(client: TestClient, store: StoreFixture, definition: dict[str, Any]) -> int:
    created = client.post("/v1/flows", json=definition, headers=store.headers)
    assert created.status_code == 201, created.text
    flow_id = int(created.json()["id"])
    published = client.post(f"/v1/flows/{flow_id}/publish", headers=store.headers)
    assert published.status_code == 200, published.text
    return flow_id


def runs(db: Database, flow_id: int) -> list[FlowRun]:
    with db.read() as session:
        found = list(
            session.scalars(select(FlowRun).where(FlowRun.flow_id == flow_id).order_by(FlowRun.id))
        )
        session.expunge_all()
    return found


def step_log(db: Database, flow_id: int) -> list[tuple[int, int, str, str]]:
    """The flow's visits as the API shows them, (run, seq, step, status) in run and visit
    order: the step log's rows and the visits active runs wait in (which have no row
    until they end)."""
    with db.read() as session:
        visits = [
            (s.run_id, s.seq, s.step, s.status)
            for s in session.scalars(select(FlowRunStep).where(FlowRunStep.flow_id == flow_id))
        ]
        for run in session.scalars(select(FlowRun).where(FlowRun.flow_id == flow_id)):
            waiting = engine.waiting_visit(run)
            if waiting is not None:
                visits.append((run.id, run.seq, waiting["step"], waiting["status"]))
    return sorted(visits)


#: The row the queue hands flows: its header and the columns flows names.
_ROW = ("id", "store_id", "category", "name", "silent", *triggers.EVENT_COLUMNS)


def pending_rows(session: Any, store_id: int) -> list[Any]:
    """The store's unprocessed events as the queue hands them to flows (plain rows)."""
    columns = [getattr(Event, c) for c in _ROW]
    return list(
        session.execute(
            select(*columns)
            .join(PendingEvent, PendingEvent.id == Event.id)
            .where(Event.store_id == store_id)
            .order_by(Event.id)
        )
    )


@contextmanager
def statements(db: Database, parameters: bool = False) -> Iterator[list[Any]]:
    """The statements sent meanwhile (with ``parameters``: each with its parameters)."""
    seen: list[Any] = []

    def note(conn: Any, cursor: Any, statement: str, sent: Any, *args: Any) -> None:
        seen.append((statement.strip(), sent) if parameters else statement.strip())

    sa_event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", note)


def ids_in(parameters: Any) -> list[int]:
    """The ids a statement's one list parameter names (``kit.sql.among``): a JSON list on
    SQLite ("[1,2]"), an array's text on PostgreSQL ("{1,2}")."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    [found] = [v for v in values if isinstance(v, str)]
    if found.startswith("{"):
        found = f"[{found[1:-1]}]"
    return sorted(json.loads(found))
