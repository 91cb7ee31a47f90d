"""Listing merges and conflicts, and undoing a merge."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from cartwheel.exceptions import Conflict, NotFound
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import Contact, ContactIdentifier, ContactMerge, Event, IdentityConflict
from cartwheel.models.base import MAX_ID, utcnow
from cartwheel.outbox import CONTACT_UPDATED, emit


def list_merges(
    session: Session, store_id: int, page: PageParams, contact_id: int | None
) -> tuple[list[ContactMerge], int]:
    query = select(ContactMerge).where(ContactMerge.store_id == store_id)
    if contact_id is not None and not 0 < contact_id <= MAX_ID:
        return [], 0
    if contact_id is not None:
        query = query.where(
            or_(
                ContactMerge.source_contact_id == contact_id,
                ContactMerge.target_contact_id == contact_id,
            )
        )
    return paginate(session, query.order_by(ContactMerge.id.desc()), page)


def list_conflicts(
    session: Session, store_id: int, page: PageParams, contact_id: int | None
) -> tuple[list[IdentityConflict], int]:
    query = select(IdentityConflict).where(IdentityConflict.store_id == store_id)
    if contact_id is not None and not 0 < contact_id <= MAX_ID:
        return [], 0
    if contact_id is not None:
        query = query.where(
            or_(
                IdentityConflict.contact_id == contact_id,
                IdentityConflict.owner_contact_id == contact_id,
            )
        )
    return paginate(session, query.order_by(IdentityConflict.id.desc()), page)


def undo_merge(session: Session, store_id: int, merge_id: int) -> ContactMerge:
    """Split a merged contact back out: its identifiers and the events that moved with the
    merge return to it, and it resolves on its own again. Fields copied into the survivor
    stay there (they may have been edited since); the source keeps its own fields."""
    if not 0 < merge_id <= MAX_ID:
        raise NotFound("Merge not found.")
    merge = session.get(ContactMerge, merge_id, with_for_update=True)
    if merge is None or merge.store_id != store_id:
        raise NotFound("Merge not found.")
    if merge.undone_at is not None:
        raise Conflict("This merge was already undone.")
    source = session.get(Contact, merge.source_contact_id)
    if source is None or source.merged_into_id != merge.target_contact_id:
        raise Conflict("The merged contact has changed since; this merge cannot be undone.")
    moved = merge.moved or {}
    identifier_ids = [int(i) for i in moved.get("identifier_ids", [])]
    event_ids = [uuid.UUID(e) for e in moved.get("event_ids", [])]
    if identifier_ids:
        session.execute(
            update(ContactIdentifier)
            .where(
                ContactIdentifier.id.in_(identifier_ids),
                ContactIdentifier.contact_id == merge.target_contact_id,
            )
            .values(contact_id=source.id)
        )
    if event_ids:
        session.execute(
            update(Event)
            .where(Event.id.in_(event_ids), Event.contact_id == merge.target_contact_id)
            .values(contact_id=source.id)
        )
    now = utcnow()
    source.merged_into_id = None
    source.updated_at = now
    merge.undone_at = now
    session.flush()
    emit(session, store_id, CONTACT_UPDATED, {"contact_id": source.id})
    return merge
