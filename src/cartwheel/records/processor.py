"""The event processor that keeps the store's records in step with lifecycle events
(registered in :mod:`cartwheel.worker.registry`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from cartwheel.models import Event
from cartwheel.records import carts, orders, products, subscriptions

HANDLERS: dict[str, Callable[[Session, Event], None]] = {
    "order": orders.handle,
    "product": products.handle,
    "cart": carts.handle,
    "subscription": subscriptions.handle,
    # "customer" and "user" events have none: ingest already applied their profile patch to
    # the contact, and a deleted account on the platform does not delete the contact.
}


def wants(_session: Session, event: Any) -> bool:
    """Only lifecycle events with a record to keep (asked with the event's header)."""
    return event.category in HANDLERS


def process_event(session: Session, event: Event) -> None:
    """Upsert (or delete) the record a lifecycle event describes; other events pass."""
    handler = HANDLERS.get(event.category or "")
    if handler is not None:
        handler(session, event)
