"""The segment entries of the worker registry: keeping memberships right as events, profile
changes and time happen.

- **Events** (:meth:`Segments.process_event`): only for stores with segments, only for
  events whose name or lifecycle kind a segment mentions (asked with the event's header,
  before it is loaded), and then only those segments, for the event's contact.
- **Domain changes** (:meth:`Segments.consume_message`): a new, changed, merged, unmerged or
  deleted contact, a list change, another segment's entry or exit: the segments that read
  what changed, for the contacts it changed.
- **Time** (:class:`SweepTask`): the (segment, contact) pairs whose ``due_at`` has come, in
  bounded batches claimed with ``SKIP LOCKED``.

Each pass reads a store's segments once (cached on the pass's session, so a segment change
committed before the pass is always seen). Events and messages only note which contacts
each segment must re-check; the queue then calls :meth:`Segments.plan` once per pass, which
evaluates each segment once for all of them (``contacts.id IN (…)``), and
:meth:`Segments.apply`, which writes the transitions in bulk in the pass's write transaction.
On SQLite the queue runs the handling and the plan in a read transaction before it takes
the single write lock (``worker/queue.py``), so ingest is not held up while segments are
evaluated."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import (
    ContactMerge,
    Event,
    Segment,
    SegmentCheck,
)
from cartwheel.models.base import utcnow
from cartwheel.outbox import (
    CONTACT_CREATED,
    CONTACT_DELETED,
    CONTACT_MERGED,
    CONTACT_PATCHED,
    CONTACT_UPDATED,
    SEGMENT_ENTERED,
    SEGMENT_EXITED,
    emit_many,
)
from cartwheel.segments import membership, repository
from cartwheel.segments.definition import (
    DefinitionError,
    EventCondition,
    Node,
    PropertyCondition,
    walk,
)
from cartwheel.segments.direction import BOTH, DOWN, UP, Direction, direction, refused
from cartwheel.worker.queue import deferred, taken

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
#: The topics the consumer reads.
TOPICS = frozenset(
    {
        CONTACT_CREATED,
        CONTACT_UPDATED,
        CONTACT_PATCHED,
        CONTACT_MERGED,
        CONTACT_DELETED,
        SEGMENT_ENTERED,
        SEGMENT_EXITED,
    }
)
#: What the consumer reads of an event and of an outbox message (the queue then reads plain
#: rows of these columns instead of ORM objects).
EVENT_COLUMNS = (
    "contact_id",
    "name",
    "category",
    "action",
    "value",
    "properties",
    "property_types",
)
MESSAGE_COLUMNS = ("topic", "payload")
#: How events move segments' answers (:meth:`Live.moves`), by the segments' conditions, the
#: event's kind and the values the segments read: a pure function of the definitions and
#: those values, so it is kept across passes (and emptied when it reaches this size).
_MOVES: dict[tuple[Any, ...], tuple[tuple[int, Direction], ...]] = {}
MOVES_KEPT = 100_000
#: Pairs re-checked per sweep pass.
SWEEP_BATCH = 500
_CACHE = "cartwheel.segments.live"
#: The key of the pass's pending re-checks in the queue's deferred work.
_PENDING = "cartwheel.segments.pending"
#: The pass's events by kind: the contacts seen, and the kinds (with their store's segments).
_SEEN = "cartwheel.segments.seen"
_KINDS = "cartwheel.segments.kinds"


@dataclass(slots=True)
class _Kind:
    fixed: list[tuple[Segment, Direction]] = field(default_factory=list)
    varying: list[Segment] = field(default_factory=list)
    #: What the varying segments read of an event: these properties, and its value.
    names: tuple[str, ...] = ()
    uses_value: bool = False
    #: The kind and the varying segments' ids and versions (a key of :data:`_MOVES`).
    signature: tuple[Any, ...] = ()
    by_id: dict[int, Segment] = field(default_factory=dict)


@dataclass(slots=True)
class Live:
    """A store's segments as one worker pass sees them: each with its parsed condition, and
    indexed by the event names and lifecycle categories they count."""

    segments: list[Segment]
    nodes: dict[int, Node] = field(default_factory=dict)
    by_name: dict[str, list[Segment]] = field(default_factory=dict)
    by_category: dict[str, list[Segment]] = field(default_factory=dict)
    #: Segments whose answer one more event moves by its amount (a ``sum``), not its kind.
    summing: set[int] = field(default_factory=set)
    #: The event conditions of the segments that filter events by a ``where``: an event
    #: they all surely refuse moves nothing.
    filtered: dict[int, list[EventCondition]] = field(default_factory=dict)
    #: Per varying segment: the event properties its direction depends on (in its ``where``
    #: and ``sum``), and whether it sums the event's value.
    relevant: dict[int, tuple[tuple[str, ...], bool]] = field(default_factory=dict)
    #: The segments other segments refer to, and those reading profiles or lists.
    referred: set[int] = field(default_factory=set)
    reading_contacts: list[Segment] = field(default_factory=list)
    #: Per event kind (name, category, action): the segments counting it whose direction
    #: the kind alone gives, with that direction; and those that depend on the event (a
    #: sum: its amount; a ``where``: its properties).
    _kinds: dict[tuple[str, str | None, str | None], _Kind] = field(default_factory=dict)

    @classmethod
    def of(cls, segments: list[Segment]) -> Live:
        found = cls([])
        for segment in segments:
            try:
                node = membership.node_of(segment)
            except DefinitionError:
                # Every condition is checked when it is written; one that does not parse
                # (written around the API) is left out rather than stopping the queue for
                # every store.
                log.error("segment %s has a condition that does not parse", segment.id)
                continue
            found.segments.append(segment)
            found.nodes[segment.id] = node
            leaves = [n for n in walk(node) if isinstance(n, EventCondition)]
            if any(n.sum is not None for n in leaves):
                found.summing.add(segment.id)
            if any(n.where is not None for n in leaves):
                found.filtered[segment.id] = leaves
            if segment.id in found.summing or segment.id in found.filtered:
                found.relevant[segment.id] = _relevant(leaves)
            mentioned = segment.mentions or {}
            found.referred.update(mentioned.get("segments", ()))
            if _reads_contact(segment):
                found.reading_contacts.append(segment)
            for name in mentioned.get("names", ()):
                found.by_name.setdefault(name, []).append(segment)
            for category in {c for c, _ in mentioned.get("kinds", ())}:
                found.by_category.setdefault(category, []).append(segment)
        return found

    def kind(self, event: Event) -> _Kind:
        """The segments events of ``event``'s kind may move, computed once per kind."""
        key = (event.name, event.category, event.action)
        found = self._kinds.get(key)
        if found is None:
            found = self._kinds[key] = _Kind()
            names: set[str] = set()
            for segment in self.counting(event.name, event.category):
                if segment.id in self.summing or segment.id in self.filtered:
                    found.varying.append(segment)
                    reads, uses_value = self.relevant[segment.id]
                    names.update(reads)
                    found.uses_value = found.uses_value or uses_value
                    continue
                moves = direction(self.nodes[segment.id], event, properties=False)
                if moves is not None:
                    found.fixed.append((segment, moves))
            found.names = tuple(sorted(names))
            # The conditions themselves, not only ids and versions: SQLite may give a new
            # segment the id of one deleted with its store.
            found.signature = (
                key,
                tuple((s.id, s.version, _canonical(s.condition)) for s in found.varying),
            )
            found.by_id = {s.id: s for s in found.varying}
        return found

    def moves(self, kind: _Kind, event: Any) -> list[tuple[Segment, Direction]]:
        """How ``event`` moves its kind's ``varying`` segments (those it moves at all): a
        sum by its amount; nothing when every ``where`` counting it surely refuses it. The
        answer depends only on the event's kind and the properties those segments read, so
        it is worked out once per kind and distinct values."""
        properties = event.properties or {}
        types = event.property_types or {}
        key = (
            kind.signature,
            event.value if kind.uses_value else None,
            *((properties.get(n), types.get(n)) for n in kind.names),
        )
        try:
            moved = _MOVES[key]
        except KeyError:
            if len(_MOVES) >= MOVES_KEPT:
                _MOVES.clear()
            moved = _MOVES[key] = self._all_moves(kind, event)
        except TypeError:  # a list or object value: not a key
            moved = self._all_moves(kind, event)
        return [(kind.by_id[segment_id], moves) for segment_id, moves in moved]

    def _all_moves(self, kind: _Kind, event: Any) -> tuple[tuple[int, Direction], ...]:
        found = []
        for segment in kind.varying:
            moves = self._moves(segment, event)
            if moves is not None:
                found.append((segment.id, moves))
        return tuple(found)

    def _moves(self, segment: Segment, event: Any) -> Direction | None:
        node = self.nodes[segment.id]
        if segment.id in self.summing:
            return direction(node, event)
        if refused(self.filtered[segment.id], event):
            return None
        return direction(node, event, properties=False)

    def counting(self, name: str, category: str | None) -> list[Segment]:
        """The segments that may count an event of this name or category."""
        named = self.by_name.get(name, [])
        kinded = self.by_category.get(category, []) if category is not None else []
        if not kinded:
            return named
        if not named:
            return kinded
        return sorted({s.id: s for s in named + kinded}.values(), key=lambda s: s.id)


def live(session: Session, store_id: int) -> Live:
    """The store's segments, read once per pass (per session)."""
    cache: dict[int, Live] = session.info.setdefault(_CACHE, {})
    if store_id not in cache:
        cache[store_id] = Live.of(repository.live(session, store_id))
    return cache[store_id]


@dataclass(slots=True)
class _Pending:
    """The contacts a segment must re-check at the pass's flush: ``always``, or only while
    in the segment (``if_member``: what happened can only take them out) or only while out
    of it (``if_not_member``: it can only bring them in)."""

    segment: Segment
    node: Node
    always: set[int] = field(default_factory=set)
    if_member: set[int] = field(default_factory=set)
    if_not_member: set[int] = field(default_factory=set)
    #: Contacts whose events may have gone: their time checks are planned afresh.
    replan: set[int] = field(default_factory=set)

    def into(self, moves: Direction) -> set[int]:
        """Where a contact goes for a change that ``moves`` the answer this way."""
        if moves == UP:
            return self.if_not_member
        if moves == DOWN:
            return self.if_member
        return self.always


class Segments:
    """The event processor and outbox consumer, with an injectable clock."""

    def __init__(self, clock: Clock = utcnow) -> None:
        self.clock = clock

    # -- events ----------------------------------------------------------------------------

    def wants_event(self, session: Session, header: Any) -> bool:
        return bool(live(session, header.store_id).counting(header.name, header.category))

    def process_event(self, session: Session, event: Any) -> None:
        """Note the re-checks ``event`` (an ORM object or a row of :data:`EVENT_COLUMNS`) calls
        for."""
        if event.contact_id is None:
            return
        found = live(session, event.store_id)
        kind = found.kind(event)
        contact_id = event.contact_id
        if kind.fixed:
            # The kind's own segments are noted once per kind at the flush.
            seen: dict[int, set[int]] = deferred(session).setdefault(_SEEN, {})
            seen.setdefault(id(kind), set()).add(contact_id)
            deferred(session).setdefault(_KINDS, {})[id(kind)] = (found, kind)
        if kind.varying:
            pending: dict[int, _Pending] = deferred(session).setdefault(_PENDING, {})
            for segment, moves in found.moves(kind, event):
                _pending(pending, found, segment).into(moves).add(contact_id)

    # -- domain changes ----------------------------------------------------------------------

    def wants_message(self, session: Session, header: Any) -> bool:
        topic = header.topic
        if topic not in TOPICS:
            return False
        found = live(session, header.store_id)
        if not found.segments:
            return False
        payload = header.payload if isinstance(header.payload, dict) else {}
        if topic in (SEGMENT_ENTERED, SEGMENT_EXITED):
            return payload.get("segment_id") in found.referred
        if topic == CONTACT_PATCHED or (topic == CONTACT_UPDATED and "id" in payload):
            return bool(found.reading_contacts)
        return True

    def consume_message(self, session: Session, message: Any) -> None:
        """Note the re-checks ``message`` (an ORM object or a row of :data:`MESSAGE_COLUMNS`)
        calls for."""
        if message.topic not in TOPICS:
            return
        found = live(session, message.store_id)
        segments = found.segments
        payload = message.payload or {}
        topic = message.topic
        if topic in (SEGMENT_ENTERED, SEGMENT_EXITED):
            changed = payload.get("segment_id")
            users = [s for s in segments if changed in (s.mentions or {}).get("segments", ())]
            _note(session, found, users, [payload.get("contact_id")])
        elif topic == CONTACT_UPDATED and "id" in payload:
            # A profile edit or a list change, with the contact as the API shows it.
            _note(session, found, found.reading_contacts, [payload.get("id")])
        elif topic == CONTACT_PATCHED:
            _note(session, found, found.reading_contacts, [payload.get("contact_id")])
        elif topic == CONTACT_UPDATED:
            # An undone merge ({"contact_id": the merged contact}): rows came back to it
            # from the contact it was merged into; both are re-checked.
            contact_id = payload.get("contact_id")
            ids = [contact_id, *_undone_targets(session, message.store_id, contact_id)]
            _note(session, found, segments, ids, replan=True)
        elif topic == CONTACT_MERGED:
            ids = [payload.get("contact_id"), payload.get("merged_contact_id")]
            _note(session, found, segments, ids, replan=True)
        else:  # created or deleted
            _note(session, found, segments, [payload.get("contact_id")], replan=True)

    # -- once per pass -----------------------------------------------------------------------

    def plan(self, session: Session) -> Plan | None:
        """Re-check each segment the pass's rows touched, once, for all the contacts they
        touched: the reading half, which may run in a read transaction before the pass's
        write transaction (the queue calls it at the end of the pass's handling)."""
        gathered = deferred(session)
        pending: dict[int, _Pending] = gathered.pop(_PENDING, {})
        seen: dict[int, set[int]] = gathered.pop(_SEEN, {})
        for key, (found, kind) in gathered.pop(_KINDS, {}).items():
            for segment, moves in kind.fixed:
                _pending(pending, found, segment).into(moves).update(seen[key])
        if not pending:
            return None
        now = self.clock()
        held = membership.held_pairs(
            session,
            pending,
            {c for p in pending.values() for c in p.always | p.if_member | p.if_not_member},
        )
        work = []
        for segment_id in sorted(pending):
            noted = pending[segment_id]
            ids = (
                noted.always
                | {c for c in noted.if_member if (segment_id, c) in held}
                | {c for c in noted.if_not_member if (segment_id, c) not in held}
            )
            work.append(
                membership.Recheck(
                    noted.segment, noted.node, frozenset(ids), frozenset(noted.replan)
                )
            )
        return Plan(now, membership.decide(session, work, now, held))

    def apply(self, session: Session, plan: Plan | None) -> None:
        """The writing half, in the pass's write transaction."""
        if plan is not None:
            membership.apply(session, plan.decisions, plan.now, _announce)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a pass's re-checks decided, at ``now``, to be written by :meth:`Segments.apply`."""

    now: datetime
    decisions: list[membership.Decision]


def _announce(session: Session, messages: list[tuple[int, str, dict[str, Any]]]) -> None:
    """Write the transitions someone reads (queue.taken): a webhook subscription, a flow,
    a segment that refers to the changed one. Which segments refer to which is read afresh,
    after :func:`membership.apply` has locked the changed segments: a segment created
    meanwhile that refers to one of them has committed by then, or waits for this
    transaction and builds over its memberships. (Only that is read again: the rest of the
    pass's view of the segments is not what decides who reads a transition.)"""
    for store_id, found in session.info.get(_CACHE, {}).items():
        found.referred = repository.referred(session, store_id)
    emit_many(session.connection(), taken(session, messages))


def _canonical(condition: Any) -> str:
    return json.dumps(condition, sort_keys=True, separators=(",", ":"))


def _relevant(leaves: list[EventCondition]) -> tuple[tuple[str, ...], bool]:
    """The event properties these leaves' ``where`` and ``sum`` read, and whether a leaf
    sums the event's value."""
    names: set[str] = set()
    for leaf in leaves:
        if leaf.sum is not None and leaf.sum != "value":
            names.add(leaf.sum)
        if leaf.where is not None:
            names.update(n.property for n in walk(leaf.where) if isinstance(n, PropertyCondition))
    return tuple(sorted(names)), any(leaf.sum == "value" for leaf in leaves)


def _reads_contact(segment: Segment) -> bool:
    found = segment.mentions or {}
    return bool(found.get("profile") or found.get("lists"))


def _note(
    session: Session,
    found: Live,
    segments: list[Segment],
    contact_ids: list[Any],
    moves: Direction = BOTH,
    *,
    replan: bool = False,
) -> None:
    """Note that these segments must re-check these contacts at the pass's flush (for a
    change that ``moves`` their answers only one way, only where it could; with ``replan``,
    a change that may have taken events away, planning their time checks afresh)."""
    ids = [i for i in contact_ids if isinstance(i, int) and not isinstance(i, bool)]
    if not ids or not segments:
        return
    pending: dict[int, _Pending] = deferred(session).setdefault(_PENDING, {})
    for segment in segments:
        noted = _pending(pending, found, segment)
        noted.into(moves).update(ids)
        if replan:
            noted.replan.update(ids)


def _pending(pending: dict[int, _Pending], found: Live, segment: Segment) -> _Pending:
    noted = pending.get(segment.id)
    if noted is None:
        noted = pending[segment.id] = _Pending(segment, found.nodes[segment.id])
    return noted


def _undone_targets(session: Session, store_id: int, contact_id: Any) -> list[int]:
    if not isinstance(contact_id, int):
        return []
    return list(
        session.scalars(
            select(ContactMerge.target_contact_id).where(
                ContactMerge.store_id == store_id,
                ContactMerge.source_contact_id == contact_id,
                ContactMerge.undone_at.is_not(None),
            )
        )
    )


# -- time ---------------------------------------------------------------------------------------


def sweep(db: Database, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Re-check up to ``limit`` due (segment, contact) pairs; returns how many. It holds the
    worker lease, so on SQLite no event pass is between its plan and its apply meanwhile."""
    query = (
        select(SegmentCheck.segment_id, SegmentCheck.contact_id)
        .where(SegmentCheck.due_at <= now)
        .order_by(SegmentCheck.due_at)
        .limit(limit)
    )
    if db.is_sqlite:
        # One writer: look in a read transaction first, so an idle sweep never takes the
        # write lock the ingest writer is waiting for.
        with db.read() as session:
            if session.execute(query.limit(1)).first() is None:
                return 0
    else:
        query = query.with_for_update(skip_locked=True)
    with db.worker_lease(), db.transaction() as session:
        due = session.execute(query).all()
        by_segment: dict[int, list[int]] = defaultdict(list)
        for segment_id, contact_id in due:
            by_segment[segment_id].append(contact_id)
        work = []
        for segment_id, contact_ids in by_segment.items():
            segment = session.get(Segment, segment_id)
            if segment is None or segment.deleted_at is not None:
                session.execute(delete(SegmentCheck).where(SegmentCheck.segment_id == segment_id))
                continue
            work.append(
                membership.Recheck(segment, membership.node_of(segment), frozenset(contact_ids))
            )
        membership.recheck_many(session, work, now)
    return len(due)


class SweepTask:
    """The periodic task: each call sweeps one bounded batch of due checks."""

    def __init__(self, settings: Settings | None = None, clock: Clock = utcnow) -> None:
        self.clock = clock

    def __call__(self, db: Database) -> int:
        return sweep(db, self.clock())


#: The registry's instances (the real clock).
SEGMENTS = Segments()
