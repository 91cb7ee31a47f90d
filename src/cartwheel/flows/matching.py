"""Reading the event log for a run: did an event it waits for (or that ends it) happen?

Every check is a query over *that contact's* events from a moment on (the index
``ix_events_store_contact_occurred``), so a run that is woken by an event, by its timer or
by a resume sees the same answer: an event processed before the run started, while it
waited or out of order is found all the same. The property ``where`` is the segments'
compiled filter; ``match`` compares a property with the run's key or trigger."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cartwheel.db import plain_rows
from cartwheel.flows import stored_trigger
from cartwheel.flows.definition import EventMatch, EventWait
from cartwheel.kit.sql import among
from cartwheel.models import Contact, Event
from cartwheel.segments.compiler import Context, active, compile_condition, event_filters
from cartwheel.segments.definition import EventCondition, Node
from cartwheel.segments.direction import passes

#: Candidate events read per check; a contact with more matching events than this since
#: the moment is checked on the first ones (oldest first), which is what a wait needs.
CANDIDATES = 50
#: The ``session.info`` key of events read ahead for a batch of runs (:func:`prefetch`).
_AHEAD = "cartwheel.flows.lookahead"


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def core(session: Session, statement: Select[*tuple[Any, ...]]) -> Iterable[Any]:
    """``statement``'s rows (columns, not ORM entities), read through the session's
    connection without the ORM's result machinery (:func:`cartwheel.db.plain_rows`: on
    PostgreSQL psycopg's own rows), after the flush that ``session.execute`` would do
    first (none under ``no_autoflush``)."""
    if session.autoflush:
        session.flush()
    return plain_rows(session.connection(), statement)


def core_set(session: Session, statement: Select[Any]) -> set[Any]:
    """The values of ``statement``'s one column, read as :func:`core` reads rows."""
    return {value for (value,) in core(session, statement)}


def resolve(path: str, event: dict[str, Any] | None, entity: Any, record: Any) -> Any:
    """The value at ``path`` ("entity.id", "properties.cartId", "cartId", "record.id",
    "event.id")."""
    head, _, rest = path.partition(".")
    if head == "event" and rest:
        return (event or {}).get(rest)
    if head == "entity" and rest:
        return entity.get(rest) if isinstance(entity, dict) else None
    if head == "record" and rest:
        source = record if isinstance(record, dict) else entity
        return source.get(rest) if isinstance(source, dict) else None
    name = rest if head == "properties" and rest else path
    properties = (event or {}).get("properties") or {}
    return properties.get(name) if isinstance(properties, dict) else None


def scalar(value: Any) -> str | None:
    """A comparable text form of a key or property value; None for a missing or nested
    one."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def expected(reference: Any, key: str, trigger: dict[str, Any]) -> str | None:
    """What a ``match`` value stands for on this run."""
    if isinstance(reference, str) and reference == "$trigger.key":
        return key or None
    if _of_trigger(reference):
        path = reference[len("$trigger.") :]
        return scalar(
            resolve(path, trigger.get("event"), trigger.get("entity"), trigger.get("record"))
        )
    return scalar(reference)


def _of_trigger(reference: Any) -> bool:
    """Whether a ``match`` value reads the trigger itself (its event, entity or record),
    which a run started by an event keeps as the event's id (``stored_trigger``)."""
    return (
        isinstance(reference, str)
        and reference.startswith("$trigger.")
        and reference != "$trigger.key"
    )


def kind_filters(match: EventMatch) -> EventCondition:
    return EventCondition("", match.name, match.category, match.action)


def _query(session: Session, store_id: int, wait: EventWait, now: datetime) -> Any:
    condition = EventCondition(
        "", wait.event.name, wait.event.category, wait.event.action, where=wait.where
    )
    ctx = Context(store_id, now, dialect(session))
    return (
        select(Event)
        .where(*event_filters(condition, ctx, correlate=False), Event.silent.is_(False))
        .order_by(Event.occurred_at, Event.id)
    )


def prefetch(
    session: Session,
    store_id: int,
    wait: EventWait,
    since: dict[int, datetime],
    now: datetime,
) -> None:
    """Read ahead, in one query, the events like ``wait`` of many contacts (each from its
    moment on), for :func:`find` to answer from; a batch of runs then costs one query per
    condition instead of one per run. Kept for the session's transaction."""
    if not since:
        return
    earliest = min(since.values())
    found: dict[int, list[Event]] = {contact_id: [] for contact_id in since}
    query = _query(session, store_id, wait, now).where(
        among(dialect(session), Event.contact_id, sorted(since)), Event.occurred_at >= earliest
    )
    for event in session.scalars(query):
        if event.contact_id is not None and event.occurred_at >= since[event.contact_id]:
            found[event.contact_id].append(event)
    ahead: dict[tuple[int, int], tuple[dict[int, list[Event]], dict[int, datetime]]]
    ahead = session.info.setdefault(_AHEAD, {})
    ahead[(id(wait), store_id)] = (found, since)


def find(
    session: Session,
    store_id: int,
    contact_id: int,
    wait: EventWait,
    since: datetime,
    now: datetime,
    key: str,
    trigger: dict[str, Any],
) -> Event | None:
    """The first event of the contact like ``wait`` that occurred at or after ``since``
    (not silent; passing its ``where`` and ``match``), or None."""
    ahead = session.info.get(_AHEAD, {}).get((id(wait), store_id))
    events: Any
    if ahead is not None and contact_id in ahead[0] and since >= ahead[1][contact_id]:
        events = [e for e in ahead[0][contact_id] if e.occurred_at >= since]
    else:
        events = session.scalars(
            _query(session, store_id, wait, now)
            .where(Event.contact_id == contact_id, Event.occurred_at >= since)
            .limit(CANDIDATES)
        )
    if any(_of_trigger(value) for _, value in wait.match):
        trigger = stored_trigger.whole(session, store_id, trigger)
    wanted = [(path, expected(value, key, trigger)) for path, value in wait.match]
    for event in events:
        if all(
            value is not None
            and scalar(resolve(path, {"properties": event.properties}, event.entity, event.entity))
            == value
            for path, value in wanted
        ):
            found: Event = event
            return found
    return None


def ahead_since(session: Session, store_id: int, wait: EventWait) -> dict[int, datetime]:
    """From when :func:`prefetch` read each contact's events like ``wait`` (if it did)."""
    ahead = session.info.get(_AHEAD, {}).get((id(wait), store_id))
    return dict(ahead[1]) if ahead is not None else {}


def forget(session: Session) -> None:
    """Drop what :func:`prefetch` read (at the end of its batch)."""
    session.info.pop(_AHEAD, None)


def holds(session: Session, store_id: int, contact_id: int, node: Node, now: datetime) -> bool:
    """Whether a segment-style condition holds for the contact now (an inactive contact
    holds nothing)."""
    ctx = Context(store_id, now, dialect(session))
    found = session.execute(
        select(Contact.id).where(
            Contact.id == contact_id, active(store_id), compile_condition(node, ctx)
        )
    ).first()
    return found is not None


def passes_where(
    session: Session, store_id: int, event_id: Any, match: EventMatch, where: Node, now: datetime
) -> bool:
    """Whether the stored event passes a trigger's ``where``."""
    condition = EventCondition("", match.name, match.category, match.action, where=where)
    ctx = Context(store_id, now, dialect(session))
    found = session.execute(
        select(Event.id).where(
            *event_filters(condition, ctx, correlate=False), Event.id == event_id
        )
    ).first()
    return found is not None


def passing_where(
    session: Session,
    store_id: int,
    events: list[Any],
    match: EventMatch,
    where: Node,
    now: datetime,
) -> set[Any]:
    """Which of these stored events pass a trigger's ``where``: answered from each event's
    own properties where the comparison is certain (:func:`direction.passes`, the
    compiler's answer), and by one query for the rest of the batch. The query also names
    the span of their moments, which changes no answer: SQLite's planner takes the index on
    (store, name, moment) for the name, and without the span it read every event of that
    name the store ever had, in each pass."""
    passing: set[Any] = set()
    unsure = []
    for event in events:
        answer = passes(where, event)
        if answer is None:
            unsure.append(event)
        elif answer:
            passing.add(event.id)
    if not unsure:
        return passing
    condition = EventCondition("", match.name, match.category, match.action, where=where)
    ctx = Context(store_id, now, dialect(session))
    moments = [event.occurred_at for event in unsure]
    return passing | core_set(
        session,
        select(Event.id).where(
            *event_filters(condition, ctx, correlate=False),
            among(ctx.dialect, Event.id, [event.id for event in unsure]),
            Event.occurred_at.between(min(moments), max(moments)),
        ),
    )
