"""Submitting canonical lifecycle events the way a wire adapter does, then running the
worker, for the record tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, IngestResult
from cartwheel.models import OutboxMessage
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker


def lifecycle(
    store_id: int,
    category: str,
    action: str,
    entity: dict[str, Any] | None,
    *,
    email: str = "ann@example.com",
    at: datetime | None = None,
    value: float | None = None,
    currency: str | None = None,
    silent: bool = False,
) -> CanonicalEvent:
    hints = IdentityHints()
    hints.add("email", email)
    return CanonicalEvent(
        store_id=store_id,
        name=f"{category}_{action}",
        identity=hints,
        category=category,
        action=action,
        entity=entity,
        occurred_at=at,
        value=value,
        currency=currency,
        silent=silent,
    )


def submit(runtime: Runtime, worker: Worker, *events: CanonicalEvent) -> list[IngestResult]:
    """Store the events through the group-commit writer, then run every processor."""
    results = runtime.writer.submit_sync(list(events))
    assert all(isinstance(r, IngestResult) for r in results), results
    worker.drain()
    return [r for r in results if isinstance(r, IngestResult)]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)


def outbox(db: Database, store_id: int, topic: str | None = None) -> list[OutboxMessage]:
    with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.store_id == store_id)
        if topic is not None:
            query = query.where(OutboxMessage.topic == topic)
        return list(session.scalars(query.order_by(OutboxMessage.id)))
