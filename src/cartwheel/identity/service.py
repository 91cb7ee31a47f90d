"""Listing merges and conflicts, and undoing a merge (through the registry of what a contact
owns, :mod:`cartwheel.identity.owned`)."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cartwheel.exceptions import Conflict, NotFound
from cartwheel.identity import owned
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import Contact, ContactIdentifier, ContactMerge, IdentityConflict
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


def get_merge(session: Session, store_id: int, merge_id: int) -> ContactMerge:
    merge = session.get(ContactMerge, merge_id) if 0 < merge_id <= MAX_ID else None
    if merge is None or merge.store_id != store_id:
        raise NotFound("Merge not found.")
    return merge


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
    """Split a merged contact back out: everything the merge moved (identifiers, events,
    orders, list memberships… every row of :data:`~cartwheel.identity.owned.OWNED`) returns
    to it, and it resolves on its own again. Fields copied into the survivor
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
    target = session.get(Contact, merge.target_contact_id)
    if target is None or target.deleted_at is not None or target.merged_into_id is not None:
        raise Conflict(
            "The contact this merge went into was deleted or merged since; "
            "this merge cannot be undone."
        )
    recorded = _recorded_identifiers(session, merge)
    if _held(session, target.id, recorded, merge) < len(recorded):
        # The source would come back showing an email or phone that no longer names it.
        raise Conflict(
            "An identifier this merge moved has left the contact since; "
            "this merge cannot be undone."
        )
    # Exactly the rows the merge recorded, per registry table, that the target still holds
    # and that existed at the merge (never a row that reused a recorded id since).
    session.flush()
    moved = {**(merge.moved or {}), "identifiers": recorded}
    owned.move(session.connection(), target.id, source.id, only=moved, made_before=merge.created_at)
    now = utcnow()
    source.merged_into_id = None
    source.updated_at = now
    merge.undone_at = now
    session.flush()
    emit(session, store_id, CONTACT_UPDATED, {"contact_id": source.id})
    return merge


def _recorded_identifiers(session: Session, merge: ContactMerge) -> list[list[str]]:
    """The (kind, value) pairs the merge moved. Merges recorded before identifiers were
    recorded by value hold row ids: those still on the target and made before the merge."""
    moved = merge.moved or {}
    if "identifiers" in moved:
        return [list(pair) for pair in moved["identifiers"]]
    ids = list(moved.get("identifier_ids", []))
    if not ids:
        return []
    rows = session.execute(
        select(ContactIdentifier.kind, ContactIdentifier.value).where(
            ContactIdentifier.id.in_(ids),
            ContactIdentifier.contact_id == merge.target_contact_id,
            ContactIdentifier.created_at <= merge.created_at,
        )
    )
    found = [[kind, value] for kind, value in rows]
    if len(found) < len(ids):
        raise Conflict(
            "An identifier this merge moved has left the contact since; "
            "this merge cannot be undone."
        )
    return found


def _held(
    session: Session, contact_id: int, identifiers: list[list[str]], merge: ContactMerge
) -> int:
    if not identifiers:
        return 0
    count: int = session.execute(
        select(func.count()).where(
            ContactIdentifier.store_id == merge.store_id,
            ContactIdentifier.contact_id == contact_id,
            ContactIdentifier.created_at <= merge.created_at,
            or_(
                *(
                    and_(ContactIdentifier.kind == kind, ContactIdentifier.value == value)
                    for kind, value in identifiers
                )
            ),
        )
    ).scalar_one()
    return count
