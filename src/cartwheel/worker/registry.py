"""The one list of background handlers. A domain that reacts to events or outbox messages,
or owns a queue of its own, adds one line here."""

from __future__ import annotations

from collections.abc import Callable

from cartwheel.config import Settings, get_settings
from cartwheel.contacts.tasks import follow_merge
from cartwheel.db import Database
from cartwheel.records import processor as records
from cartwheel.records.merges import follow_merge as follow_merge_to_records
from cartwheel.webhooks import tasks as webhooks
from cartwheel.worker.queue import EventHandler, OutboxConsumer


def event_processors() -> list[EventHandler]:
    """Called for the stored events each one wants, after they are durable, in log order."""
    return [
        EventHandler(records.process_event, records.wants),
        EventHandler(webhooks.fan_out_event, webhooks.wants_event),
    ]


def outbox_consumers() -> list[OutboxConsumer]:
    """Called for every outbox message (domain change), in order."""
    return [follow_merge, follow_merge_to_records, webhooks.fan_out_message]


def periodic_tasks(settings: Settings | None = None) -> list[Callable[[Database], int]]:
    """Other queues (e.g. webhook deliveries): each call does a bounded amount of work and
    returns how many items it handled (0 = idle). ``settings`` are the worker's."""
    settings = settings or get_settings()
    return [webhooks.DeliveryTask(settings)]
