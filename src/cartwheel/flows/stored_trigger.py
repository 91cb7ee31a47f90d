"""What a run keeps of what started it (``flow_runs.trigger``), and the whole of it as
templates, ``send_webhook`` bodies, a ``match`` on ``$trigger.…`` and the API see it.

A run started by an event keeps the event's id alone: ``{"source": "event", "eventId":
"…"}``. The event log keeps every event (a contact's deletion keeps its events, a merge
moves them to the survivor), so the event is read back when a step or a page needs it,
and seen as ``GET /v1/events`` shows it:
``{"source": "event", "event": <the event's view>, "entity": <its entity>, "record": null}``.
Starting a run thus writes ~60 bytes of trigger, not the event's whole document (~600 for
a product view: the run's largest column, serialised by the worker and written to the
run's row for every run an event starts; docs/performance.md).

Runs started by a record (``order_created``) or a segment keep their small context whole,
and so do runs started before this form (their ``event`` is the view as it was then)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.events.schemas import event_view
from cartwheel.kit.sql import among
from cartwheel.models import Event

#: Where a run started by an event keeps the event's id.
EVENT_ID = "eventId"


def of_event(event: Any) -> dict[str, Any]:
    """What a run started by ``event`` (an ORM event or a pass's row of it) keeps."""
    return {"source": "event", EVENT_ID: str(event.id)}


def whole(session: Session, store_id: int, trigger: dict[str, Any] | None) -> dict[str, Any]:
    """The trigger as its readers see it: an event's id read back as the event."""
    return whole_all(session, store_id, [trigger])[0]


def whole_all(
    session: Session, store_id: int, triggers: list[dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """:func:`whole` for many runs' triggers (a page of runs): their events in one query,
    only the store's."""
    wanted = {found for found in map(_event_id, triggers) if found is not None}
    events: dict[uuid.UUID, Event] = {}
    if wanted:
        dialect = session.get_bind().dialect.name
        events = {
            event.id: event
            for event in session.scalars(
                select(Event).where(
                    among(dialect, Event.id, sorted(wanted)), Event.store_id == store_id
                )
            )
        }
    return [_whole(trigger, events) for trigger in triggers]


def _whole(trigger: dict[str, Any] | None, events: dict[uuid.UUID, Event]) -> dict[str, Any]:
    event_id = _event_id(trigger)
    if event_id is None:
        return trigger or {}
    event = events.get(event_id)
    if event is None:  # not the store's (never so for a run's own event)
        return {"source": "event", "event": None, "entity": None, "record": None}
    view = event_view(event).model_dump(mode="json")
    return {"source": "event", "event": view, "entity": event.entity, "record": None}


def _event_id(trigger: dict[str, Any] | None) -> uuid.UUID | None:
    """The event a compact trigger names, or None (a whole trigger, or none)."""
    if not trigger or trigger.get("source") != "event":
        return None
    raw = trigger.get(EVENT_ID)
    if not isinstance(raw, str):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None
