"""The one list of background handlers. A domain that reacts to events or outbox messages,
or owns a queue of its own, adds one line here."""

from __future__ import annotations

from collections.abc import Callable

from cartwheel.db import Database
from cartwheel.worker.queue import EventProcessor, OutboxConsumer


def event_processors() -> list[EventProcessor]:
    """Called for every stored event, after it is durable, in log order."""
    return []


def outbox_consumers() -> list[OutboxConsumer]:
    """Called for every outbox message (domain change), in order."""
    return []


def periodic_tasks() -> list[Callable[[Database], int]]:
    """Other queues (e.g. webhook deliveries): each call does a bounded amount of work and
    returns how many items it handled (0 = idle)."""
    return []
