"""Changing memberships: building a segment over all contacts, re-checking some contacts,
and the moments their answers change with time alone. Every entry and exit is written
with its outbox message and its day's history, in the caller's transaction; the primary key
of ``segment_memberships`` makes each transition happen once however many workers race."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    case,
    delete,
    exists,
    func,
    literal,
    not_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cartwheel.ingest.properties import parse_iso_datetime
from cartwheel.kit.sql import among, unnested
from cartwheel.models import Contact, Event, Segment, SegmentCheck, SegmentDay, SegmentMembership
from cartwheel.models.base import UTCDateTime
from cartwheel.outbox import SEGMENT_ENTERED, SEGMENT_EXITED, emit_many
from cartwheel.segments import compiler
from cartwheel.segments.compiler import Context, Tally, active, compile_condition
from cartwheel.segments.definition import (
    RELATIVE_DATE_OPS,
    EventCondition,
    Group,
    Node,
    ProfileCondition,
    PropertyCondition,
    parse,
)
from cartwheel.segments.direction import BOTH, DOWN, UP, with_time

#: Contacts re-checked per statement.
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Changes:
    entered: list[int]
    exited: list[int]


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def context(
    session: Session, store_id: int, now: datetime, *, per_contact: bool = False
) -> Context:
    return Context(store_id, now, dialect(session), per_contact)


def node_of(segment: Segment) -> Node:
    return parse(segment.condition)


def matching(session: Session, node: Node, ctx: Context) -> Any:
    """``SELECT contacts.id`` of the store's active contacts matching ``node``."""
    return select(Contact.id).where(active(ctx.store_id, ctx), compile_condition(node, ctx))


@contextmanager
def set_based(session: Session) -> Iterator[None]:
    """Around a store-wide evaluation (a build, a preview): on PostgreSQL, no nested loops
    for the statements inside. The set-based evaluation is hash joins of grouped passes
    over the events by design; PostgreSQL's estimates of the grouped subqueries (often 1
    row, with statistics or without, as right after an import) otherwise make it nest a
    loop over an aggregate, measured at 135 s instead of 1.1 s over 100,000 contacts and
    1,000,000 events (docs/performance.md)."""
    if dialect(session) != "postgresql":
        yield
        return
    session.execute(text("SET LOCAL enable_nestloop = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_nestloop = on"))


def _insert(session: Session) -> Any:
    return postgresql.insert if dialect(session) == "postgresql" else sqlite.insert


def build(session: Session, segment: Segment, now: datetime, *, emit: bool) -> Changes:
    """Make the memberships match the condition over every contact of the store (one
    INSERT … SELECT and one DELETE … RETURNING), then plan the time-based checks. With
    ``emit`` (a new version) the differences are announced; a first build is not: its
    members did not just enter, the segment was just defined."""
    ctx = context(session, segment.store_id, now)
    node = node_of(segment)
    with set_based(session):
        # NOT EXISTS, not NOT IN: PostgreSQL runs NOT IN (subquery) once per row when the
        # subquery's ids outgrow work_mem.
        wanted = matching(session, node, ctx).where(Contact.id == SegmentMembership.contact_id)
        gone = list(
            session.execute(
                delete(SegmentMembership)
                .where(
                    SegmentMembership.segment_id == segment.id,
                    ~exists(wanted),
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


@dataclass(frozen=True, slots=True)
class Recheck:
    """One segment (with its parsed condition) to evaluate for some of its store's contacts."""

    segment: Segment
    node: Node
    contact_ids: frozenset[int]
    #: Contacts whose events may have gone (a merge undone, a merge, a deletion): their time
    #: checks are planned afresh even where their answer did not change.
    replan: frozenset[int] = frozenset()


def held_pairs(
    session: Session, segment_ids: Collection[int], contact_ids: Collection[int]
) -> set[tuple[int, int]]:
    """Which of these (segment, contact) pairs are memberships now."""
    found: set[tuple[int, int]] = set()
    segments, contacts = sorted(segment_ids), sorted(contact_ids)
    kind = dialect(session)
    for start in range(0, len(contacts), CHUNK):
        # Plain columns through the connection (no ORM result machinery per row), fetched
        # all at once (iterating a result fetches row by row), as every many-row read of a
        # re-check.
        rows = (
            session.connection()
            .execute(
                select(SegmentMembership.segment_id, SegmentMembership.contact_id).where(
                    among(kind, SegmentMembership.segment_id, segments),
                    among(kind, SegmentMembership.contact_id, contacts[start : start + CHUNK]),
                )
            )
            .all()
        )
        found.update((segment_id, contact_id) for segment_id, contact_id in rows)
    return found


@dataclass(slots=True)
class Decision:
    """What re-checking one segment for some contacts decided, read but not yet written:
    who enters, who leaves, and the time checks to replace (:func:`decide`); the segment's
    version it was decided on, so :func:`apply` can tell it still holds."""

    segment: Segment
    version: int
    entering: list[int]
    leaving: list[int]
    #: Contacts whose planned check is stale (deleted), and the checks to write.
    stale_checks: list[int]
    fresh_checks: list[tuple[int, datetime]]


def recheck_many(
    session: Session,
    work: Sequence[Recheck],
    now: datetime,
    held: set[tuple[int, int]] | None = None,
) -> dict[int, Changes]:
    """Evaluate each segment for its contacts and apply what changed (:func:`decide`, then
    :func:`apply`, in the caller's transaction)."""
    return apply(session, decide(session, work, now, held), now)


def decide(
    session: Session,
    work: Sequence[Recheck],
    now: datetime,
    held: set[tuple[int, int]] | None = None,
) -> list[Decision]:
    """Evaluate each segment for its contacts; reads only, so it may run in a read
    transaction before the write transaction that applies it. One statement per store and
    chunk of contacts answers every segment at once (a column per segment), so a worker
    pass costs a few statements however many segments it touched; ``held`` (the
    memberships of these pairs, when the caller has read them) spares reading them again."""
    work = [w for w in work if w.contact_ids]
    if held is None:
        held = held_pairs(
            session,
            {w.segment.id for w in work},
            {c for w in work for c in w.contact_ids},
        )
    answers: dict[int, set[int]] = {w.segment.id: set() for w in work}
    by_store: dict[int, list[Recheck]] = {}
    for w in work:
        by_store.setdefault(w.segment.store_id, []).append(w)
    oldest: dict[int, Oldest] = {}
    for store_id, store_work in by_store.items():
        ctx = context(session, store_id, now, per_contact=True)
        oldest[store_id] = _evaluate(session, store_work, ctx, answers)
    decisions = []
    timing: dict[int, list[_Timing]] = {}
    for w in work:
        sid = w.segment.id
        match = answers[sid]
        members = {c for c in w.contact_ids if (sid, c) in held}
        decision = Decision(
            w.segment, w.segment.version, sorted(match - members), sorted(members - match), [], []
        )
        decisions.append(decision)
        moves = with_time(w.node)
        if moves is None:
            continue
        # Only where time could change the new answer is a check due (see with_time).
        timed = match if moves == DOWN else (w.contact_ids - match if moves == UP else None)
        # Where the answer did not change and time moves it one way only, a check already
        # planned stays right: more events only put off that moment (a count in a window
        # falls below its bound later, never sooner; a composite moving one way with time
        # is monotone in its counts), so the planned moment is still no later than the real
        # one. Not where events may have gone (``replan``).
        keep = set() if moves == BOTH else (w.contact_ids - (match ^ members) - w.replan)
        timing.setdefault(w.segment.store_id, []).append(_Timing(w, decision, timed, keep))
    for store_id, store_timing in timing.items():
        ctx = context(session, store_id, now, per_contact=True)
        _replan_checks(session, store_timing, ctx, oldest[store_id])
    return decisions


#: How a worker pass announces its transitions (``session``, the messages): by default
#: every one goes to the outbox.
Announce = Callable[[Session, list[tuple[int, str, dict[str, Any]]]], None]


def _announce_all(session: Session, messages: list[tuple[int, str, dict[str, Any]]]) -> None:
    emit_many(session.connection(), messages)


def apply(
    session: Session,
    decisions: Sequence[Decision],
    now: datetime,
    announce: Announce = _announce_all,
) -> dict[int, Changes]:
    """Write what :func:`decide` decided, in the caller's (write) transaction, and hand the
    transitions to ``announce``. A segment changed or deleted since (its version moved) is
    left alone: its rebuild evaluated every contact over everything committed before it.
    Only the rows actually inserted or deleted are transitions (another worker may have
    won a race), so applying twice changes nothing. On PostgreSQL the decided segments'
    rows are share-locked first, so a change of one of them (or a new segment that refers
    to one, :func:`service.lock_segments`) waits for this transaction, or this one for it
    and then sees it."""
    current = _versions(session, [d.segment.id for d in decisions])
    decisions = [d for d in decisions if current.get(d.segment.id) == d.version]
    changes: dict[int, Changes] = {}
    entering: list[tuple[int, int]] = []
    for d in decisions:
        sid = d.segment.id
        entering += [(sid, c) for c in d.entering]
        gone: list[int] = []
        if d.leaving:
            gone = list(
                session.execute(
                    delete(SegmentMembership)
                    .where(
                        SegmentMembership.segment_id == sid,
                        among(dialect(session), SegmentMembership.contact_id, d.leaving),
                    )
                    .returning(SegmentMembership.contact_id),
                    execution_options={"synchronize_session": False},
                ).scalars()
            )
        changes[sid] = Changes([], sorted(gone))
    came: dict[int, list[int]] = {d.segment.id: [] for d in decisions}
    for segment_id, contact_id in _enter(session, entering, now):
        came[segment_id].append(contact_id)
    _write_checks(
        session,
        [(d.segment.id, c) for d in decisions for c in d.stale_checks],
        [(d.segment.id, c, at) for d in decisions for c, at in d.fresh_checks],
    )
    announced: list[tuple[int, str, dict[str, Any]]] = []
    for d in decisions:
        sid = d.segment.id
        changes[sid] = Changes(sorted(came[sid]), changes[sid].exited)
        if changes[sid].entered or changes[sid].exited:
            announced += _messages(d.segment, changes[sid])
            _count_day(session, sid, changes[sid], now, exact=False)
    if announced:
        announce(session, announced)
    return changes


def _enter(session: Session, pairs: list[tuple[int, int]], now: datetime) -> list[tuple[int, int]]:
    """Insert these (segment, contact) memberships, entered ``now``; the pairs that were not
    members already come back."""
    if not pairs:
        return []
    returned = (SegmentMembership.segment_id, SegmentMembership.contact_id)
    if dialect(session) == "postgresql":
        segment_ids, contact_ids = (list(column) for column in zip(*pairs, strict=True))
        rows = unnested(
            {"segment_id": (Integer, segment_ids), "contact_id": (Integer, contact_ids)}
        )
        statement: Any = (
            postgresql.insert(SegmentMembership)
            .from_select(
                ["segment_id", "contact_id", "entered_at"],
                select(rows.c.segment_id, rows.c.contact_id, literal(now, UTCDateTime())),
            )
            .on_conflict_do_nothing()
            .returning(*returned)
        )
        found = session.connection().execute(statement)
    else:
        # No sort_by_parameter_order: the rows name their pair, and asking for the order
        # makes SQLAlchemy send an ON CONFLICT insert one row per round trip.
        found = session.connection().execute(
            sqlite.insert(SegmentMembership).on_conflict_do_nothing().returning(*returned),
            [{"segment_id": s, "contact_id": c, "entered_at": now} for s, c in pairs],
        )
    return [(segment_id, contact_id) for segment_id, contact_id in found.all()]


def _versions(session: Session, segment_ids: list[int]) -> dict[int, int]:
    """The current version of each of these segments that still exists, share-locked on
    PostgreSQL (in id order, as :func:`service.lock_segments` takes them)."""
    if not segment_ids:
        return {}
    query = (
        select(Segment.id, Segment.version)
        .where(Segment.id.in_(sorted(set(segment_ids))), Segment.deleted_at.is_(None))
        .order_by(Segment.id)
    )
    if dialect(session) != "sqlite":
        query = query.with_for_update(read=True)
    return {segment_id: version for segment_id, version in session.execute(query)}


def _evaluate(
    session: Session, work: list[Recheck], ctx: Context, answers: dict[int, set[int]]
) -> Oldest:
    """Add to ``answers`` the contacts of ``work`` (one store's) that match, chunk by chunk:
    ``SELECT contacts.id, <segment 1 matches>, <segment 2 matches>, …`` over the chunk, the
    event conditions of every segment read in one grouped pass per kind of event
    (:class:`Tally`). Each segment's column is computed for the whole chunk and kept only
    for the contacts it re-checks: a column costs a comparison of tallied values (or an
    index lookup), less than a list of the contacts it asks about would. The same
    statement reads, for the time checks, each relative window's oldest counted event per
    contact (returned): the rows are being read anyway."""
    ids = sorted({c for w in work for c in w.contact_ids})
    oldest: Oldest = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        asked = set(chunk)
        present = [w for w in work if not w.contact_ids.isdisjoint(asked)]
        tally = Tally(chunk)
        tallied = replace(ctx, tally=tally)
        columns = []
        for w in present:
            condition = compile_condition(w.node, tallied)
            columns.append(case((condition, literal(True)), else_=literal(False)))
        windows = {id(leaf): leaf for w in present for leaf in _windowed(w.node)}
        firsts = [
            (oldest.setdefault(key, {}), tally.oldest(leaf, ctx)) for key, leaf in windows.items()
        ]
        query = select(Contact.id, *columns, *(column for _, column in firsts))
        rows = (
            session.connection()
            .execute(
                tally.joined(query.select_from(Contact), ctx).where(
                    active(ctx.store_id, ctx), among(ctx.dialect, Contact.id, chunk)
                )
            )
            .all()
        )
        found = [answers[w.segment.id] for w in present]
        rechecked = [w.contact_ids for w in present]
        split = 1 + len(present)
        for row in rows:
            contact_id = row[0]
            for matched, into, mine in zip(row[1:split], found, rechecked, strict=True):
                if matched and contact_id in mine:
                    into.add(contact_id)
            for (first, _), moment in zip(firsts, row[split:], strict=True):
                if moment is not None:
                    first[contact_id] = _aware(moment)
    return oldest


def _windowed(node: Node) -> list[EventCondition]:
    """The event conditions of ``node`` with a relative window (``within`` a duration)."""
    return [
        leaf
        for leaf in _timed_leaves(node)
        if isinstance(leaf, EventCondition)
        and leaf.within is not None
        and leaf.within.seconds is not None
    ]


def _record(
    session: Session, segment: Segment, changes: Changes, now: datetime, *, emit: bool
) -> None:
    """Announce the transitions (with ``emit``) and add them to the day's history."""
    if not changes.entered and not changes.exited:
        return
    if emit:
        emit_many(session.connection(), _messages(segment, changes))
    _count_day(session, segment.id, changes, now, exact=not emit)


def _messages(segment: Segment, changes: Changes) -> list[tuple[int, str, dict[str, Any]]]:
    return [
        (segment.store_id, SEGMENT_ENTERED, {"segment_id": segment.id, "contact_id": c})
        for c in changes.entered
    ] + [
        (segment.store_id, SEGMENT_EXITED, {"segment_id": segment.id, "contact_id": c})
        for c in changes.exited
    ]


def _count_day(
    session: Session, segment_id: int, changes: Changes, now: datetime, *, exact: bool
) -> None:
    """Add the transitions to the day's row. Its size is the last recorded size moved by
    them (every membership change is a transition recorded here; a merge moves rows without
    changing their number); ``exact`` (a build, which announces nothing) counts the
    memberships instead, as does the first row of a segment."""
    counted = (
        select(func.count()).where(SegmentMembership.segment_id == segment_id).scalar_subquery()
    )
    size: Any = counted
    entered, exited = (0, 0) if exact else (len(changes.entered), len(changes.exited))
    if not exact:
        last = (
            select(SegmentDay.size)
            .where(SegmentDay.segment_id == segment_id)
            .order_by(SegmentDay.day.desc())
            .limit(1)
            .scalar_subquery()
        )
        size = func.coalesce(last + (entered - exited), counted)
    statement = _insert(session)(SegmentDay).values(
        segment_id=segment_id, day=now.date().isoformat(), entered=entered, exited=exited, size=size
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


@dataclass(slots=True)
class _Timing:
    """A re-checked segment whose answer time may change: its contacts that get a check
    (``timed``; None: all), those whose planned check stays (``keep``), and the decision
    the checks to replace are added to."""

    work: Recheck
    decision: Decision
    timed: Collection[int] | None
    keep: Collection[int]


def _replan_checks(session: Session, timing: list[_Timing], ctx: Context, oldest: Oldest) -> None:
    """Add to each decision what brings its contacts' time checks to the moments they are
    due now, only what differs: one more event seldom moves a contact's next moment (the
    oldest counted event is still the oldest), so most re-checks write no check at all.
    Only the ``timed`` contacts get a check; the others' go. A ``keep`` contact's check
    still to come stays as it is. Per chunk of contacts, one statement reads the planned
    checks of every segment; each relative window's oldest counted event per contact is
    ``oldest``, read with the evaluation (:func:`_evaluate`)."""
    ids = sorted({c for t in timing for c in t.work.contact_ids})
    segment_ids = sorted({t.work.segment.id for t in timing})
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        planned: dict[tuple[int, int], datetime] = {
            (segment_id, contact_id): _aware(at)
            for segment_id, contact_id, at in session.connection()
            .execute(
                select(SegmentCheck.segment_id, SegmentCheck.contact_id, SegmentCheck.due_at).where(
                    among(ctx.dialect, SegmentCheck.segment_id, segment_ids),
                    among(ctx.dialect, SegmentCheck.contact_id, chunk),
                )
            )
            .all()
        }
        steps = []
        for t in timing:
            sid = t.work.segment.id
            mine = [c for c in chunk if c in t.work.contact_ids]
            wanted = mine if t.timed is None else [c for c in mine if c in t.timed]
            kept = {
                c
                for c in wanted
                if c in t.keep and (sid, c) in planned and planned[sid, c] > ctx.now
            }
            steps.append((t, mine, kept, [c for c in wanted if c not in kept]))
        for t, mine, kept, asked in steps:
            sid = t.work.segment.id
            due = next_moments(session, t.work.node, ctx, asked, oldest) if asked else {}
            had = {c: planned[sid, c] for c in mine if (sid, c) in planned}
            gone = {c for c, at in had.items() if c not in kept and due.get(c) != at}
            t.decision.stale_checks += sorted(gone)
            t.decision.fresh_checks += [
                (c, at) for c, at in sorted(due.items()) if c not in had or c in gone
            ]


#: Per relative-window event condition (by identity), each contact's oldest event it counts.
Oldest = dict[int, dict[int, datetime]]


def _write_checks(
    session: Session, stale: list[tuple[int, int]], fresh: list[tuple[int, int, datetime]]
) -> None:
    """Delete the ``stale`` (segment, contact) checks and write the ``fresh`` ones (segment,
    contact, moment) of every segment a pass decided. The deletes go per segment, through
    the primary key whatever the planner knows of the table; on PostgreSQL the new checks
    are one insert from arrays (one statement per segment, a row each, before)."""
    by_segment: dict[int, list[int]] = {}
    for sid, c in stale:
        by_segment.setdefault(sid, []).append(c)
    for sid, contacts in by_segment.items():
        for start in range(0, len(contacts), CHUNK):
            session.connection().execute(
                delete(SegmentCheck).where(
                    SegmentCheck.segment_id == sid,
                    among(
                        dialect(session), SegmentCheck.contact_id, contacts[start : start + CHUNK]
                    ),
                )
            )
    if not fresh:
        return
    if dialect(session) == "postgresql":
        rows = unnested(
            {
                "segment_id": (Integer, [sid for sid, _, _ in fresh]),
                "contact_id": (Integer, [c for _, c, _ in fresh]),
                "due_at": (UTCDateTime(), [at for _, _, at in fresh]),
            }
        )
        session.connection().execute(
            postgresql.insert(SegmentCheck)
            .from_select(["segment_id", "contact_id", "due_at"], select(rows))
            .on_conflict_do_nothing()
        )
    else:
        session.connection().execute(
            sqlite.insert(SegmentCheck).on_conflict_do_nothing(),
            [{"segment_id": sid, "contact_id": c, "due_at": at} for sid, c, at in fresh],
        )


def _plan_checks(
    session: Session, segment_id: int, node: Node, ctx: Context, contact_ids: list[int] | None
) -> None:
    """Store, per contact, the next moment after ``ctx.now`` its answer may change with
    time alone (``None`` contacts: every contact of the store)."""
    due = next_moments(session, node, ctx, contact_ids)
    if due:
        # One compiled statement, many parameter sets (a VALUES list of thousands of rows
        # would be compiled afresh each time, which costs far more than the insert).
        session.connection().execute(
            _insert(session)(SegmentCheck).on_conflict_do_nothing(),
            [
                {"segment_id": segment_id, "contact_id": c, "due_at": at}
                for c, at in sorted(due.items())
            ],
        )


def next_moments(
    session: Session,
    node: Node,
    ctx: Context,
    contact_ids: list[int] | None,
    oldest: Oldest | None = None,
) -> dict[int, datetime]:
    """For each contact with one, the earliest moment after now at which a leaf of ``node``
    may change its answer: the oldest counted event leaving a relative window (read, or
    taken from ``oldest`` where it was read for many segments at once), a date crossing a
    relative bound. Conservative: a re-check at a moment where nothing changes only costs
    the re-check."""
    due: dict[int, datetime] = {}

    def keep(contact_id: int, moment: datetime) -> None:
        if moment > ctx.now and (contact_id not in due or moment < due[contact_id]):
            due[contact_id] = moment

    for leaf in _timed_leaves(node):
        if isinstance(leaf, EventCondition):
            known = oldest.get(id(leaf)) if oldest is not None else None
            _event_moments(session, leaf, ctx, contact_ids, keep, known)
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


def _scope(column: Any, contact_ids: list[int] | None, ctx: Context) -> ColumnElement[bool]:
    if contact_ids is None:
        return column.is_not(None)  # type: ignore[no-any-return]
    return among(ctx.dialect, column, contact_ids)


def _event_moments(
    session: Session,
    leaf: EventCondition,
    ctx: Context,
    contact_ids: list[int] | None,
    keep: Any,
    known: dict[int, datetime] | None = None,
) -> None:
    kind = [
        Event.store_id == ctx.store_id,
        _scope(Event.contact_id, contact_ids, ctx),
        *compiler.kind_filters(leaf, ctx),
    ]
    if leaf.within is not None and leaf.within.seconds is not None:
        window = timedelta(seconds=leaf.within.seconds)
        if known is not None and contact_ids is not None:
            rows: Any = [(c, known[c]) for c in contact_ids if c in known]
        else:
            rows = (
                session.connection()
                .execute(
                    select(Event.contact_id, func.min(Event.occurred_at))
                    .where(
                        *compiler.event_filters(leaf, ctx, correlate=False),
                        _scope(Event.contact_id, contact_ids, ctx),
                    )
                    .group_by(Event.contact_id)
                )
                .all()
            )
        for contact_id, first in rows:
            if first is not None:
                keep(contact_id, _aware(first) + window)
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
            active(ctx.store_id, ctx), _scope(Contact.id, contact_ids, ctx), value.is_not(None)
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
