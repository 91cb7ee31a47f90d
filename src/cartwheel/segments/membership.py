"""Changing memberships: building a segment over all contacts, re-checking some contacts,
and the moments their answers change with time alone. Every entry and exit is written
with its outbox message and its day's history, in the caller's transaction; the primary key
of ``segment_memberships`` makes each transition happen once however many workers race."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    delete,
    exists,
    func,
    literal,
    not_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cartwheel.ingest.properties import parse_iso_datetime
from cartwheel.models import Contact, Event, Segment, SegmentCheck, SegmentDay, SegmentMembership
from cartwheel.outbox import SEGMENT_ENTERED, SEGMENT_EXITED, emit_many
from cartwheel.segments import compiler
from cartwheel.segments.compiler import Context, active, compile_condition
from cartwheel.segments.definition import (
    RELATIVE_DATE_OPS,
    EventCondition,
    Group,
    Node,
    ProfileCondition,
    PropertyCondition,
    parse,
)

#: Contacts re-checked per statement.
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Changes:
    entered: list[int]
    exited: list[int]


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def context(session: Session, store_id: int, now: datetime) -> Context:
    return Context(store_id, now, dialect(session))


def node_of(segment: Segment) -> Node:
    return parse(segment.condition)


def matching(session: Session, node: Node, ctx: Context) -> Any:
    """``SELECT contacts.id`` of the store's active contacts matching ``node``."""
    return select(Contact.id).where(active(ctx.store_id), compile_condition(node, ctx))


def _insert(session: Session) -> Any:
    return postgresql.insert if dialect(session) == "postgresql" else sqlite.insert


def build(session: Session, segment: Segment, now: datetime, *, emit: bool) -> Changes:
    """Make the memberships match the condition over every contact of the store (one
    INSERT … SELECT and one DELETE … RETURNING), then plan the time-based checks. With
    ``emit`` (a new version) the differences are announced; a first build is not: its
    members did not just enter, the segment was just defined."""
    ctx = context(session, segment.store_id, now)
    node = node_of(segment)
    wanted = matching(session, node, ctx)
    gone = list(
        session.execute(
            delete(SegmentMembership)
            .where(
                SegmentMembership.segment_id == segment.id,
                SegmentMembership.contact_id.not_in(wanted),
            )
            .returning(SegmentMembership.contact_id),
            execution_options={"synchronize_session": False},
        ).scalars()
    )
    held = exists(
        select(1).where(
            SegmentMembership.segment_id == segment.id,
            SegmentMembership.contact_id == Contact.id,
        )
    )
    statement: Insert = (
        _insert(session)(SegmentMembership)
        .from_select(
            ["segment_id", "contact_id", "entered_at"],
            select(
                literal(segment.id), Contact.id, literal(now, SegmentMembership.entered_at.type)
            ).where(active(ctx.store_id), compile_condition(node, ctx), not_(held)),
        )
        .on_conflict_do_nothing()
        .returning(SegmentMembership.contact_id)
    )
    came = list(session.execute(statement).scalars())
    session.execute(delete(SegmentCheck).where(SegmentCheck.segment_id == segment.id))
    _plan_checks(session, segment.id, node, ctx, None)
    changes = Changes(sorted(came), sorted(gone))
    _record(session, segment, changes, now, emit=emit)
    return changes


def recheck(
    session: Session, segment: Segment, contact_ids: Iterable[int], now: datetime
) -> Changes:
    """Evaluate ``segment`` for these contacts only and apply what changed."""
    ids = sorted(set(contact_ids))
    if not ids:
        return Changes([], [])
    ctx = context(session, segment.store_id, now)
    node = node_of(segment)
    came: list[int] = []
    gone: list[int] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        match = set(
            session.execute(matching(session, node, ctx).where(Contact.id.in_(chunk))).scalars()
        )
        held = set(
            session.execute(
                select(SegmentMembership.contact_id).where(
                    SegmentMembership.segment_id == segment.id,
                    SegmentMembership.contact_id.in_(chunk),
                )
            ).scalars()
        )
        enter, leave = sorted(match - held), sorted(held - match)
        if enter:
            came += session.execute(
                _insert(session)(SegmentMembership)
                .values(
                    [{"segment_id": segment.id, "contact_id": c, "entered_at": now} for c in enter]
                )
                .on_conflict_do_nothing()
                .returning(SegmentMembership.contact_id)
            ).scalars()
        if leave:
            gone += session.execute(
                delete(SegmentMembership)
                .where(
                    SegmentMembership.segment_id == segment.id,
                    SegmentMembership.contact_id.in_(leave),
                )
                .returning(SegmentMembership.contact_id),
                execution_options={"synchronize_session": False},
            ).scalars()
        session.execute(
            delete(SegmentCheck).where(
                SegmentCheck.segment_id == segment.id, SegmentCheck.contact_id.in_(chunk)
            )
        )
        _plan_checks(session, segment.id, node, ctx, chunk)
    changes = Changes(sorted(came), sorted(gone))
    _record(session, segment, changes, now, emit=True)
    return changes


def _record(
    session: Session, segment: Segment, changes: Changes, now: datetime, *, emit: bool
) -> None:
    if not changes.entered and not changes.exited:
        return
    if emit:
        emit_many(
            session.connection(),
            [
                (segment.store_id, SEGMENT_ENTERED, {"segment_id": segment.id, "contact_id": c})
                for c in changes.entered
            ]
            + [
                (segment.store_id, SEGMENT_EXITED, {"segment_id": segment.id, "contact_id": c})
                for c in changes.exited
            ],
        )
    size = session.execute(
        select(func.count()).where(SegmentMembership.segment_id == segment.id)
    ).scalar_one()
    day = now.date().isoformat()
    entered, exited = len(changes.entered) if emit else 0, len(changes.exited) if emit else 0
    statement = _insert(session)(SegmentDay).values(
        segment_id=segment.id, day=day, entered=entered, exited=exited, size=size
    )
    excluded = statement.excluded
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["segment_id", "day"],
            set_={
                "entered": SegmentDay.entered + excluded.entered,
                "exited": SegmentDay.exited + excluded.exited,
                "size": excluded.size,
            },
        )
    )


# -- time ----------------------------------------------------------------------------------


#: Rows per statement when storing due checks (3 parameters each).
_CHECK_CHUNK = 5_000


def _plan_checks(
    session: Session, segment_id: int, node: Node, ctx: Context, contact_ids: list[int] | None
) -> None:
    """Store, per contact, the next moment after ``ctx.now`` its answer may change with
    time alone (``None`` contacts: every contact of the store)."""
    due = sorted(next_moments(session, node, ctx, contact_ids).items())
    # In chunks: one multi-row VALUES of every member would pass PostgreSQL's limit of
    # 65,535 bound parameters past 21,845 contacts (a 500 building a large segment).
    for start in range(0, len(due), _CHECK_CHUNK):
        session.execute(
            _insert(session)(SegmentCheck)
            .values(
                [
                    {"segment_id": segment_id, "contact_id": c, "due_at": at}
                    for c, at in due[start : start + _CHECK_CHUNK]
                ]
            )
            .on_conflict_do_nothing()
        )


def next_moments(
    session: Session, node: Node, ctx: Context, contact_ids: list[int] | None
) -> dict[int, datetime]:
    """For each contact with one, the earliest moment after now at which a leaf of ``node``
    may change its answer: the oldest counted event leaving a relative window, a date
    crossing a relative bound. Conservative: a re-check at a moment where nothing changes
    only costs the re-check."""
    due: dict[int, datetime] = {}

    def keep(contact_id: int, moment: datetime) -> None:
        if moment > ctx.now and (contact_id not in due or moment < due[contact_id]):
            due[contact_id] = moment

    for leaf in _timed_leaves(node):
        if isinstance(leaf, EventCondition):
            _event_moments(session, leaf, ctx, contact_ids, keep)
        else:
            _profile_moments(session, leaf, ctx, contact_ids, keep)
    return due


def _timed_leaves(node: Node) -> list[EventCondition | ProfileCondition]:
    found: list[EventCondition | ProfileCondition] = []
    if isinstance(node, Group):
        for child in node.children:
            found += _timed_leaves(child)
    elif isinstance(node, EventCondition):
        relative = node.within is not None and node.within.seconds is not None
        if relative or (node.where is not None and _relative_properties(node.where)):
            found.append(node)
    elif isinstance(node, ProfileCondition) and node.compare.op in RELATIVE_DATE_OPS:
        found.append(node)
    return found


def _relative_properties(node: Node) -> list[PropertyCondition]:
    if isinstance(node, Group):
        return [p for child in node.children for p in _relative_properties(child)]
    if isinstance(node, PropertyCondition) and node.compare.op in RELATIVE_DATE_OPS:
        return [node]
    return []


def _scope(column: Any, contact_ids: list[int] | None) -> ColumnElement[bool]:
    if contact_ids is None:
        return column.is_not(None)  # type: ignore[no-any-return]
    return column.in_(contact_ids)  # type: ignore[no-any-return]


def _event_moments(
    session: Session, leaf: EventCondition, ctx: Context, contact_ids: list[int] | None, keep: Any
) -> None:
    kind = [Event.store_id == ctx.store_id, _scope(Event.contact_id, contact_ids)]
    if leaf.name is not None:
        kind.append(Event.name == leaf.name)
    else:
        kind.append(Event.category == leaf.category)
        if leaf.action is not None:
            kind.append(Event.action == leaf.action)
    if leaf.within is not None and leaf.within.seconds is not None:
        window = leaf.within.seconds
        filters = compiler.event_filters(leaf, ctx, correlate=False)
        rows = session.execute(
            select(Event.contact_id, func.min(Event.occurred_at))
            .where(*filters, _scope(Event.contact_id, contact_ids))
            .group_by(Event.contact_id)
        ).all()
        for contact_id, oldest in rows:
            if oldest is not None:
                keep(contact_id, _aware(oldest) + timedelta(seconds=window))
    for prop in _relative_properties(leaf.where) if leaf.where is not None else []:
        rows = session.execute(
            select(Event.contact_id, Event.properties[prop.property].as_string()).where(
                *kind, Event.property_types[prop.property].as_string() == "date"
            )
        ).all()
        for contact_id, raw in rows:
            _date_moments(contact_id, raw, prop.compare.value, keep)


def _profile_moments(
    session: Session, leaf: ProfileCondition, ctx: Context, contact_ids: list[int] | None, keep: Any
) -> None:
    if leaf.column is not None:
        value: Any = getattr(Contact, leaf.column)
    else:
        assert leaf.custom is not None
        value = Contact.custom_fields[leaf.custom].as_string()
    rows = session.execute(
        select(Contact.id, value).where(
            active(ctx.store_id), _scope(Contact.id, contact_ids), value.is_not(None)
        )
    ).all()
    for contact_id, raw in rows:
        _date_moments(contact_id, raw, leaf.compare.value, keep)


def _date_moments(contact_id: Any, raw: Any, span: Any, keep: Any) -> None:
    moment = (
        _aware(raw)
        if isinstance(raw, datetime)
        else (parse_iso_datetime(raw) if isinstance(raw, str) else None)
    )
    if moment is None:
        return
    for at in (moment - span, moment, moment + span):
        keep(contact_id, at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
