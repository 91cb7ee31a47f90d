"""Flow test helpers: a clock tests move by hand, events through the real writer, a worker
on that clock, and a stand-in messages channel that records what steps queued."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.db import Database
from cartwheel.flows.sending import Queued
from cartwheel.models import FlowRun
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture
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


@dataclass
class RecordingSender:
    """The messages channel stand-in: templates by id and channel, and every queued send
    (deduplicated by idempotency key, as the channel promises)."""

    templates: dict[int, str] = field(default_factory=dict)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)

    def channel_of(self, session: Session, store_id: int, template_id: int) -> str | None:
        return self.templates.get(template_id)

    def send(
        self,
        session: Session,
        *,
        store_id: int,
        template_id: int,
        contact_id: int,
        context: dict[str, Any],
        idempotency_key: str,
    ) -> Queued:
        self.sent.setdefault(
            idempotency_key,
            {"store": store_id, "template": template_id, "contact": contact_id, "context": context},
        )
        return Queued(idempotency_key)

    def to(self, contact_id: int) -> list[dict[str, Any]]:
        return [s for s in self.sent.values() if s["contact"] == contact_id]


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
