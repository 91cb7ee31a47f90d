"""The one list of background handlers. A domain that reacts to events or outbox messages,
or owns a queue of its own, adds one line here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cartwheel.config import Settings, get_settings
from cartwheel.db import Database
from cartwheel.flows import timers as flow_timers
from cartwheel.flows import triggers as flows
from cartwheel.messages import tasks as messages
from cartwheel.models.base import utcnow
from cartwheel.records import processor as records
from cartwheel.segments import tasks as segments
from cartwheel.webhooks import tasks as webhooks
from cartwheel.worker.queue import Handler


def event_processors(clock: Callable[[], datetime] = utcnow) -> list[Handler]:
    """Called for the stored events each one wants, after they are durable, in log order.
    ``clock`` is the worker's (flows read time from it)."""
    flow_handler = flows.Flows(clock)
    return [
        Handler(records.process_event, records.wants),
        Handler(webhooks.fan_out_event, webhooks.wants_event),
        Handler(
            segments.SEGMENTS.process_event,
            segments.SEGMENTS.wants_event,
            plan=segments.SEGMENTS.plan,
            apply=segments.SEGMENTS.apply,
            columns=segments.EVENT_COLUMNS,
        ),
        Handler(
            flow_handler.process_event,
            flow_handler.wants_event,
            plan=flow_handler.plan,
            apply=flow_handler.apply,
            columns=flows.EVENT_COLUMNS,
        ),
    ]


def outbox_consumers(clock: Callable[[], datetime] = utcnow) -> list[Handler]:
    """Called for the outbox messages (domain changes) each one wants, in order."""
    flow_handler = flows.Flows(clock)
    return [
        Handler(webhooks.fan_out_message, webhooks.wants_message),
        Handler(
            segments.SEGMENTS.consume_message,
            segments.SEGMENTS.wants_message,
            plan=segments.SEGMENTS.plan,
            apply=segments.SEGMENTS.apply,
            columns=segments.MESSAGE_COLUMNS,
            per_row=True,  # an entry or exit is wanted where a segment refers to its segment
        ),
        Handler(
            flow_handler.consume_message,
            flow_handler.wants_message,
            flush=flow_handler.start_from_messages,
        ),
        Handler(messages.consume_message, messages.wants_message),
    ]


def periodic_tasks(
    settings: Settings | None = None, clock: Callable[[], datetime] = utcnow
) -> list[Callable[[Database], int]]:
    """Other queues (e.g. webhook deliveries): each call does a bounded amount of work and
    returns how many items it handled (0 = idle). ``settings`` are the worker's."""
    settings = settings or get_settings()
    return [
        webhooks.DeliveryTask(settings),
        segments.SweepTask(settings),
        flow_timers.SweepTask(settings, clock),
        messages.SendTask(settings),
        messages.CampaignTask(settings),
    ]
