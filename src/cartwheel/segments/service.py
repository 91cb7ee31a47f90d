"""Segments: definitions, their memberships, preview, explain and history. Services only
flush; the request's transaction commits (a segment is built inside it, so it is live, or
absent, when the answer is sent)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cartwheel.contacts import service as contacts
from cartwheel.exceptions import Conflict, NotFound, ValidationFailed
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import Contact, Event, SegmentCheck, SegmentMembership
from cartwheel.models import Segment as SegmentRow
from cartwheel.models.base import utcnow
from cartwheel.segments import membership, repository
from cartwheel.segments.compiler import Context, compile_condition, event_filters, sum_column
from cartwheel.segments.definition import (
    ConsentCondition,
    EventCondition,
    Group,
    ListCondition,
    Node,
    ProfileCondition,
    PropertyCondition,
    SegmentCondition,
    mentions,
    walk,
)
from cartwheel.segments.schemas import (
    ContactSegment,
    Explain,
    ExplainNode,
    History,
    HistoryDay,
    Preview,
    SampleContact,
    Segment,
    SegmentInput,
    SegmentMember,
)

SAMPLE = 20
HISTORY_DAYS = 90


def get_segment(session: Session, store_id: int, segment_id: int) -> SegmentRow:
    row = repository.get(session, store_id, segment_id)
    if row is None:
        raise NotFound("Segment not found.")
    return row


def view(row: SegmentRow, size: int) -> Segment:
    return Segment(
        id=row.id,
        name=row.name,
        description=row.description,
        condition=row.condition,
        version=row.version,
        state="building" if row.state == "building" else "live",
        size=size,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
    )


def read_segment(session: Session, store_id: int, segment_id: int) -> Segment:
    row = get_segment(session, store_id, segment_id)
    return view(row, repository.sizes(session, [row.id]).get(row.id, 0))


def list_segments(session: Session, store_id: int, page: PageParams) -> tuple[list[Segment], int]:
    rows, total = paginate(
        session, repository.store_segments(store_id).order_by(SegmentRow.id), page
    )
    sizes = repository.sizes(session, [r.id for r in rows])
    return [view(r, sizes.get(r.id, 0)) for r in rows], total


def check_references(
    session: Session, store_id: int, node: Node, own_id: int | None = None
) -> None:
    """Every list and segment the condition names exists in this store, and no segment
    reaches back to ``own_id`` (a cycle)."""
    errors: dict[str, list[str]] = {}
    leaves = walk(node)
    list_ids = {n.list_id for n in leaves if isinstance(n, ListCondition)}
    found_lists = repository.existing_lists(session, store_id, list_ids)
    segment_ids = {n.segment_id for n in leaves if isinstance(n, SegmentCondition)}
    found = repository.existing(session, store_id, segment_ids)
    for leaf in leaves:
        if isinstance(leaf, ListCondition) and leaf.list_id not in found_lists:
            errors.setdefault(f"{leaf.path}.list", []).append(
                f"The subscriber list {leaf.list_id} does not exist."
            )
        elif isinstance(leaf, SegmentCondition):
            if leaf.segment_id not in found:
                errors.setdefault(f"{leaf.path}.segment", []).append(
                    f"The segment {leaf.segment_id} does not exist."
                )
            elif own_id is not None and _reaches(session, store_id, leaf.segment_id, own_id):
                errors.setdefault(f"{leaf.path}.segment", []).append(
                    f"The segment {leaf.segment_id} refers back to this one: a cycle."
                )
    if errors:
        raise ValidationFailed(errors)


def _lock_referred(session: Session, store_id: int, node: Node, own_id: int | None = None) -> None:
    """Before a build, lock this segment and the segments its condition refers to (on
    PostgreSQL). A worker pass share-locks the segments whose transitions it writes and
    then reads which segments refer to them, to announce the transitions only where they
    are read (``tasks._announce``): with these locks either that pass commits first and
    the build sees its memberships, or it waits for this transaction and then announces
    to this segment too."""
    referred = {n.segment_id for n in walk(node) if isinstance(n, SegmentCondition)}
    repository.lock(session, store_id, referred | ({own_id} if own_id is not None else set()))


def _reaches(session: Session, store_id: int, start: int, target: int) -> bool:
    seen: set[int] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current == target:
            return True
        if current in seen:
            continue
        seen.add(current)
        row = repository.get(session, store_id, current)
        if row is not None:
            todo.extend(int(i) for i in (row.mentions or {}).get("segments", []))
    return False


def create_segment(
    session: Session, store_id: int, data: SegmentInput, now: datetime | None = None
) -> Segment:
    assert data.node is not None and data.name is not None and data.condition is not None
    _lock_referred(session, store_id, data.node)
    check_references(session, store_id, data.node)
    now = now or utcnow()
    row = SegmentRow(
        store_id=store_id,
        name=data.name,
        description=data.description,
        condition=data.condition,
        mentions=mentions(data.node).as_json(),
        version=1,
        state="live",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    changes = membership.build(session, row, now, emit=False)
    return view(row, len(changes.entered))


def update_segment(
    session: Session,
    store_id: int,
    segment_id: int,
    data: SegmentInput,
    now: datetime | None = None,
) -> Segment:
    row = get_segment(session, store_id, segment_id)
    now = now or utcnow()
    if data.node is not None:
        _lock_referred(session, store_id, data.node, row.id)
    if data.name is not None:
        row.name = data.name
    if data.description_given:
        row.description = data.description
    if data.node is not None and data.condition is not None and data.condition != row.condition:
        check_references(session, store_id, data.node, row.id)
        row.condition = data.condition
        row.mentions = mentions(data.node).as_json()
        row.version += 1
        session.flush()
        # Rebuilt in this transaction: readers see the old membership until it commits.
        membership.build(session, row, now, emit=True)
    row.updated_at = now
    session.flush()
    return read_segment(session, store_id, row.id)


def delete_segment(session: Session, store_id: int, segment_id: int) -> None:
    """Delete a segment and its memberships (no segment_exited: the segment is gone).
    Refused while another segment refers to it."""
    row = get_segment(session, store_id, segment_id)
    users = [
        s.id
        for s in repository.live(session, store_id)
        if row.id in (s.mentions or {}).get("segments", [])
    ]
    if users:
        raise Conflict(f"The segment is used by segment {users[0]}; change that one first.")
    row.deleted_at = utcnow()
    row.updated_at = row.deleted_at
    session.flush()
    session.execute(delete(SegmentMembership).where(SegmentMembership.segment_id == row.id))
    session.execute(delete(SegmentCheck).where(SegmentCheck.segment_id == row.id))


def list_members(
    session: Session, store_id: int, segment_id: int, page: PageParams
) -> tuple[list[SegmentMember], int]:
    row = get_segment(session, store_id, segment_id)
    query = repository.members(store_id, row.id)
    total = session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = session.execute(query.limit(page.limit).offset(page.skip)).all()
    return [SegmentMember(contactId=r[0], email=r[1], enteredAt=r[2]) for r in rows], total


def contact_segments(session: Session, store_id: int, contact_id: int) -> list[ContactSegment]:
    contact = contacts.get_contact(session, store_id, contact_id)
    if contact.deleted_at is not None or contact.merged_into_id is not None:
        raise NotFound("Contact not found.")
    return [
        ContactSegment(segmentId=r[0], name=r[1], enteredAt=r[2])
        for r in repository.contact_segments(session, store_id, contact.id)
    ]


def preview(session: Session, store_id: int, node: Node, now: datetime | None = None) -> Preview:
    check_references(session, store_id, node)
    ctx = membership.context(session, store_id, now or utcnow())
    matching = membership.matching(session, node, ctx).subquery()
    # One evaluation: the newest matching contacts, each row carrying the total count.
    with membership.set_based(session):
        rows = session.execute(
            select(Contact.id, Contact.email, func.count().over())
            .join(matching, matching.c.id == Contact.id)
            .order_by(Contact.id.desc())
            .limit(SAMPLE)
        ).all()
    count = rows[0][2] if rows else 0
    sample = [(i, e) for i, e, _ in rows]
    return Preview(count=count, sample=[SampleContact(contactId=i, email=e) for i, e in sample])


def explain(
    session: Session, store_id: int, segment_id: int, contact_id: int, now: datetime | None = None
) -> Explain:
    row = get_segment(session, store_id, segment_id)
    contact = contacts.get_contact(session, store_id, contact_id)
    now = now or utcnow()
    ctx = membership.context(session, store_id, now, per_contact=True)
    node = membership.node_of(row)
    nodes: list[ExplainNode] = []
    _explain(session, node, ctx, contact.id, nodes, None)
    held = repository.membership(session, row.id, contact.id) is not None
    matches = (
        bool(nodes[0].passed) and contact.deleted_at is None and contact.merged_into_id is None
    )
    return Explain(
        segmentId=row.id,
        contactId=contact.id,
        version=row.version,
        member=held,
        matches=matches,
        evaluatedAt=now,
        nextCheckAt=repository.next_check(session, row.id, contact.id),
        nodes=nodes,
    )


def _holds(session: Session, expression: Any, contact_id: int) -> bool:
    return bool(
        session.execute(select(Contact.id).where(Contact.id == contact_id, expression)).first()
    )


def _explain(
    session: Session,
    node: Node,
    ctx: Context,
    contact_id: int,
    out: list[ExplainNode],
    parent: EventCondition | None,
) -> None:
    if isinstance(node, PropertyCondition):
        assert parent is not None
        narrowed = EventCondition(
            parent.path,
            parent.name,
            parent.category,
            parent.action,
            within=parent.within,
            where=node,
        )
        count = session.execute(
            select(func.count())
            .select_from(Event)
            .where(*event_filters(narrowed, ctx, correlate=False), Event.contact_id == contact_id)
        ).scalar_one()
        out.append(
            ExplainNode(path=node.path, kind="property", passed=count > 0, saw={"events": count})
        )
        return
    passed = _holds(session, compile_condition(node, ctx), contact_id)
    saw: dict[str, Any] = {}
    kind = "all"
    if isinstance(node, Group):
        kind = node.kind
    elif isinstance(node, EventCondition):
        kind = "event"
        filters = [*event_filters(node, ctx, correlate=False), Event.contact_id == contact_id]
        saw["count"] = session.execute(
            select(func.count()).select_from(Event).where(*filters)
        ).scalar_one()
        if node.sum is not None:
            saw["sum"] = float(
                session.execute(
                    select(func.coalesce(func.sum(sum_column(node, ctx)), 0.0)).where(*filters)
                ).scalar_one()
            )
        oldest = session.execute(select(func.min(Event.occurred_at)).where(*filters)).scalar_one()
        if oldest is not None and node.within is not None and node.within.seconds is not None:
            saw["oldestLeavesWindowAt"] = (
                oldest + timedelta(seconds=node.within.seconds)
            ).isoformat()
    elif isinstance(node, ProfileCondition):
        kind = "profile"
        contact = session.get(Contact, contact_id)
        assert contact is not None
        if node.column is not None:
            value = getattr(contact, node.column)
        else:
            value = (contact.custom_fields or {}).get(node.custom or "")
        saw["value"] = value.isoformat() if isinstance(value, datetime) else value
    elif isinstance(node, ListCondition | SegmentCondition):
        kind = "list" if isinstance(node, ListCondition) else "segment"
        saw["member"] = passed
    elif isinstance(node, ConsentCondition):
        kind = "consent"
        contact = session.get(Contact, contact_id)
        saw["subscribed"] = bool(contact and contact.subscribed)
    out.append(ExplainNode(path=node.path, kind=kind, passed=passed, saw=saw))
    if isinstance(node, Group):
        for child in node.children:
            _explain(session, child, ctx, contact_id, out, parent)
    elif isinstance(node, EventCondition) and node.where is not None:
        _explain(session, node.where, ctx, contact_id, out, node)


def history(
    session: Session, store_id: int, segment_id: int, now: datetime | None = None
) -> History:
    row = get_segment(session, store_id, segment_id)
    now = now or utcnow()
    since = (now - timedelta(days=HISTORY_DAYS)).date().isoformat()
    today = now.date().isoformat()
    days = repository.days(session, row.id, since)
    size = repository.sizes(session, [row.id]).get(row.id, 0)
    items = [
        HistoryDay(
            day=d.day, size=size if d.day == today else d.size, entered=d.entered, exited=d.exited
        )
        for d in days
    ]
    return History(items=items)
