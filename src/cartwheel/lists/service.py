"""Subscriber lists and their contacts. Putting a contact on a list or taking it off
changes the contact's `subscriberLists`, so it emits ``contact_updated`` for that contact."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cartwheel.contacts import repository as contact_rows
from cartwheel.contacts import service as contacts
from cartwheel.contacts.schemas import Contact
from cartwheel.exceptions import NotFound, ValidationFailed
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.lists import repository
from cartwheel.lists.schemas import (
    SubscriberList,
    SubscriberListContacts,
    SubscriberListCreate,
    SubscriberListUpdate,
    list_view,
)
from cartwheel.models import SubscriberList as ListRow
from cartwheel.models.base import utcnow

#: The rates of a list no campaign was delivered to.
_NONE = (0.0, 0.0)


def get_list(session: Session, store_id: int, list_id: int) -> ListRow:
    row = repository.get(session, store_id, list_id)
    if row is None:
        raise NotFound("Subscriber list not found.")
    return row


def view(session: Session, row: ListRow) -> SubscriberList:
    count = repository.subscriber_counts(session, [row.id]).get(row.id, 0)
    return list_view(row, count, repository.campaign_rates(session, [row.id]).get(row.id, _NONE))


def list_lists(
    session: Session, store_id: int, page: PageParams
) -> tuple[list[SubscriberList], int]:
    rows, total = paginate(session, repository.store_lists(store_id).order_by(ListRow.id), page)
    counts = repository.subscriber_counts(session, [r.id for r in rows])
    rates = repository.campaign_rates(session, [r.id for r in rows])
    return [list_view(r, counts.get(r.id, 0), rates.get(r.id, _NONE)) for r in rows], total


def read_list(session: Session, store_id: int, list_id: int) -> SubscriberList:
    return view(session, get_list(session, store_id, list_id))


def create_list(session: Session, store_id: int, data: SubscriberListCreate) -> SubscriberList:
    now = utcnow()
    row = ListRow(store_id=store_id, name=data.name, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return list_view(row, 0)


def update_list(
    session: Session, store_id: int, list_id: int, data: SubscriberListUpdate
) -> SubscriberList:
    row = get_list(session, store_id, list_id)
    if row.name != data.name:
        row.name = data.name
        row.updated_at = utcnow()
        session.flush()
    return view(session, row)


def delete_list(session: Session, store_id: int, list_id: int) -> None:
    """Delete the list; its contacts stay (only their membership goes)."""
    # No contact_updated per member here: a list may hold many thousands of contacts, and
    # the document's webhooks announce contact edits, not list deletions.
    row = get_list(session, store_id, list_id)
    repository.delete_list(session, row.id)


def list_contacts(
    session: Session, store_id: int, list_id: int, page: PageParams
) -> tuple[list[Contact], int]:
    row = get_list(session, store_id, list_id)
    rows, total = paginate(session, repository.list_contacts(store_id, row.id), page)
    return contacts.views(session, rows), total


def add_contacts(
    session: Session, store_id: int, list_id: int, data: SubscriberListContacts
) -> SubscriberList:
    row = get_list(session, store_id, list_id)
    wanted = set(data.contactIds)
    # Another store's contact is as unknown here as a missing one.
    missing = sorted(wanted - contacts.active_ids(session, store_id, wanted))
    if missing:
        raise ValidationFailed(
            {"contactIds": [f"The contact {i} does not exist." for i in missing]}
        )
    new = sorted(wanted - repository.member_contact_ids(session, row.id, wanted))
    contact_rows.add_to_lists(session, [(row.id, contact_id) for contact_id in new])
    for contact_id in new:
        contacts.emit_updated(session, contacts.get_contact(session, store_id, contact_id))
    return view(session, row)


def remove_contact(session: Session, store_id: int, list_id: int, contact_id: int) -> None:
    """Take a contact off the list; 404 if the list or the contact is unknown, or the
    contact is not on the list."""
    row = get_list(session, store_id, list_id)
    contact = contacts.get_contact(session, store_id, contact_id)
    if not repository.member_contact_ids(session, row.id, {contact.id}):
        raise NotFound("The contact is not on this subscriber list.")
    repository.remove(session, row.id, {contact.id})
    contacts.emit_updated(session, contact)
