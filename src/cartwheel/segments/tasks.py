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
each segment must re-check; the queue then calls :meth:`Segments.flush` once per pass (in
the same transaction), which evaluates each segment once for all of them (``contacts.id IN
(…)``) and writes the transitions in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import ContactMerge, Event, OutboxMessage, Segment, SegmentCheck
from cartwheel.models.base import utcnow
from cartwheel.outbox import (
    CONTACT_CREATED,
    CONTACT_DELETED,
    CONTACT_MERGED,
    CONTACT_PATCHED,
    CONTACT_UPDATED,
    SEGMENT_ENTERED,
    SEGMENT_EXITED,
)
from cartwheel.segments import membership, repository
from cartwheel.worker.queue import deferred

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
#: Pairs re-checked per sweep pass.
SWEEP_BATCH = 500
_CACHE = "cartwheel.segments.live"
#: The key of the pass's pending re-checks in the queue's deferred work.
_PENDING = "cartwheel.segments.pending"


def live(session: Session, store_id: int) -> list[Segment]:
    """The store's segments, read once per pass (per session)."""
    cache: dict[int, list[Segment]] = session.info.setdefault(_CACHE, {})
    if store_id not in cache:
        cache[store_id] = repository.live(session, store_id)
    return cache[store_id]


def mentions_event(segment: Segment, name: str, category: str | None, action: Any) -> bool:
    """Whether ``segment`` counts events like this one (``action`` ``...``: not known yet)."""
    found = segment.mentions or {}
    if name in found.get("names", ()):
        return True
    for kind_category, kind_action in found.get("kinds", ()):
        if kind_category == category and (
            kind_action is None or action is ... or kind_action == action
        ):
            return True
    return False


class Segments:
    """The event processor and outbox consumer, with an injectable clock."""

    def __init__(self, clock: Clock = utcnow) -> None:
        self.clock = clock

    # -- events ----------------------------------------------------------------------------

    def wants_event(self, session: Session, header: Any) -> bool:
        segments = live(session, header.store_id)
        if not segments:
            return False
        return any(mentions_event(s, header.name, header.category, ...) for s in segments)

    def process_event(self, session: Session, event: Event) -> None:
        if event.contact_id is None:
            return
        for segment in live(session, event.store_id):
            if mentions_event(segment, event.name, event.category, event.action):
                _note(session, [segment], [event.contact_id])

    # -- domain changes ----------------------------------------------------------------------

    def wants_message(self, session: Session, header: Any) -> bool:
        return header.topic in TOPICS and bool(live(session, header.store_id))

    def consume_message(self, session: Session, message: OutboxMessage) -> None:
        if message.topic not in TOPICS:
            return
        segments = live(session, message.store_id)
        payload = message.payload or {}
        topic = message.topic
        if topic in (SEGMENT_ENTERED, SEGMENT_EXITED):
            changed = payload.get("segment_id")
            users = [s for s in segments if changed in (s.mentions or {}).get("segments", ())]
            _note(session, users, [payload.get("contact_id")])
        elif topic == CONTACT_UPDATED and "id" in payload:
            # A profile edit or a list change, with the contact as the API shows it.
            users = [s for s in segments if _reads_contact(s)]
            _note(session, users, [payload.get("id")])
        elif topic == CONTACT_PATCHED:
            _note(session, [s for s in segments if _reads_contact(s)], [payload.get("contact_id")])
        elif topic == CONTACT_UPDATED:
            # An undone merge ({"contact_id": the merged contact}): rows came back to it
            # from the contact it was merged into; both are re-checked.
            contact_id = payload.get("contact_id")
            ids = [contact_id, *_undone_targets(session, message.store_id, contact_id)]
            _note(session, segments, ids)
        elif topic == CONTACT_MERGED:
            ids = [payload.get("contact_id"), payload.get("merged_contact_id")]
            _note(session, segments, ids)
        else:  # created or deleted
            _note(session, segments, [payload.get("contact_id")])

    # -- once per pass -----------------------------------------------------------------------

    def flush(self, session: Session) -> None:
        """Re-check each segment the pass's rows touched, once, for all the contacts they
        touched (the queue calls it at the end of the pass, in its transaction)."""
        pending: dict[int, tuple[Segment, set[int]]] = deferred(session).pop(_PENDING, {})
        if not pending:
            return
        now = self.clock()
        for segment_id in sorted(pending):
            segment, contact_ids = pending[segment_id]
            membership.recheck(session, segment, contact_ids, now)


def _reads_contact(segment: Segment) -> bool:
    found = segment.mentions or {}
    return bool(found.get("profile") or found.get("lists"))


def _note(session: Session, segments: list[Segment], contact_ids: list[Any]) -> None:
    """Note that these segments must re-check these contacts at the pass's flush."""
    ids = [i for i in contact_ids if isinstance(i, int) and not isinstance(i, bool)]
    if not ids or not segments:
        return
    pending: dict[int, tuple[Segment, set[int]]] = deferred(session).setdefault(_PENDING, {})
    for segment in segments:
        if segment.id in pending:
            pending[segment.id][1].update(ids)
        else:
            pending[segment.id] = (segment, set(ids))


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
    """Re-check up to ``limit`` due (segment, contact) pairs; returns how many."""
    with db.transaction() as session:
        query = (
            select(SegmentCheck.segment_id, SegmentCheck.contact_id)
            .where(SegmentCheck.due_at <= now)
            .order_by(SegmentCheck.due_at)
            .limit(limit)
        )
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        due = session.execute(query).all()
        by_segment: dict[int, list[int]] = defaultdict(list)
        for segment_id, contact_id in due:
            by_segment[segment_id].append(contact_id)
        for segment_id, contact_ids in by_segment.items():
            segment = session.get(Segment, segment_id)
            if segment is None or segment.deleted_at is not None:
                session.execute(delete(SegmentCheck).where(SegmentCheck.segment_id == segment_id))
                continue
            membership.recheck(session, segment, contact_ids, now)
    return len(due)


class SweepTask:
    """The periodic task: each call sweeps one bounded batch of due checks."""

    def __init__(self, settings: Settings | None = None, clock: Clock = utcnow) -> None:
        self.clock = clock

    def __call__(self, db: Database) -> int:
        return sweep(db, self.clock())


#: The registry's instances (the real clock).
SEGMENTS = Segments()
