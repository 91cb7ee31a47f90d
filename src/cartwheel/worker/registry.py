"""The one list of background handlers. A domain that reacts to events or outbox messages,
or owns a queue of its own, adds one line here."""

from __future__ import annotations

from collections.abc import Callable

from cartwheel.config import Settings, get_settings
from cartwheel.contacts.tasks import follow_merge
from cartwheel.db import Database
from cartwheel.records.merges import follow_merge as follow_merge_to_records
from cartwheel.records.processor import process_event as keep_records
from cartwheel.webhooks import tasks as webhooks
from cartwheel.worker.queue import EventProcessor, OutboxConsumer


def event_processors() -> list[EventProcessor]:
    """Called for every stored event, after it is durable, in log order."""
    return [keep_records, webhooks.fan_out_event]


def outbox_consumers() -> list[OutboxConsumer]:
    """Called for every outbox message (domain change), in order."""
    return [follow_merge, follow_merge_to_records, webhooks.fan_out_message]


def periodic_tasks(settings: Settings | None = None) -> list[Callable[[Database], int]]:
    """Other queues (e.g. webhook deliveries): each call does a bounded amount of work and
    returns how many items it handled (0 = idle). ``settings`` are the worker's."""
    settings = settings or get_settings()
    return [webhooks.DeliveryTask(settings)]
