"""Contacts through the store data API: the same rows the event APIs resolve.

Email and phone are identities, not just fields: setting them here keeps
``contact_identifiers`` in step (normalized email, E.164 phone), so the next event with that
email finds this contact. Every change emits ``contact_updated`` with the contact in its API
shape, in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartwheel.bookings import repository as bookings
from cartwheel.contacts import repository
from cartwheel.contacts.schemas import (
    Contact,
    ContactCreate,
    ContactUpdate,
    EventView,
    contact_view,
    event_view,
)
from cartwheel.events import queries as event_queries
from cartwheel.exceptions import BadRequest, Conflict, NotFound, ValidationFailed
from cartwheel.forms import repository as forms
from cartwheel.identity.addresses import normalize_email, normalize_external_id, normalize_phone
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.lists import repository as lists
from cartwheel.members import repository as members
from cartwheel.models import Contact as ContactRow
from cartwheel.models import ContactIdentifier
from cartwheel.models.base import utcnow
from cartwheel.outbox import CONTACT_DELETED, CONTACT_UPDATED, emit

#: API field → contact column, for the plain text fields.
TEXT_FIELDS: dict[str, str] = {
    "name": "name",
    "firstName": "first_name",
    "lastName": "last_name",
    "note": "note",
    "address": "address1",
    "city": "city",
    "state": "state",
    "zip": "zip",
    "country": "country",
    "companyName": "company_name",
}

EMAIL_TAKEN = "A contact with this email already exists."


# -- reading -------------------------------------------------------------------------------


def list_contacts(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    created_min: datetime | None = None,
    created_max: datetime | None = None,
    phone: str | None = None,
    external_id: str | None = None,
) -> tuple[list[Contact], int]:
    query = _filtered(store_id, phone=phone, external_id=external_id)
    if query is None:
        return [], 0
    query = repository.created_between(query, created_min, created_max)
    rows, total = paginate(session, query.order_by(ContactRow.id), page)
    return views(session, rows), total


def find_by_email(
    session: Session,
    store_id: int,
    email: str,
    *,
    phone: str | None = None,
    external_id: str | None = None,
) -> Contact:
    """The document's "find by email": the one contact with this email (and the other
    given identifiers), or 404."""
    normalized = normalize_email(email)
    if normalized is None:
        raise BadRequest("The email parameter may not be empty.")
    query = _filtered(store_id, email=normalized, phone=phone, external_id=external_id)
    row = session.execute(query).scalars().first() if query is not None else None
    if row is None:
        raise NotFound("Contact not found.")
    return view(session, row)


def _filtered(
    store_id: int,
    *,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
) -> Any:
    """Active contacts owning every given identifier; None when one can match nothing."""
    query = repository.active_contacts(store_id)
    for kind, raw, value in (
        ("email", email, normalize_email(email)),
        ("phone", phone, normalize_phone(phone)),
        ("external", external_id, normalize_external_id(external_id)),
    ):
        if raw is None:
            continue
        if value is None:
            return None  # e.g. not a possible phone number: nobody has it
        owners = repository.by_identifier(store_id, kind, value).with_only_columns(ContactRow.id)
        query = query.where(ContactRow.id.in_(owners))
    return query


def get_contact(session: Session, store_id: int, contact_id: int) -> ContactRow:
    contact = repository.get(session, store_id, contact_id)
    if contact is None:
        raise NotFound("Contact not found.")
    return contact


def active_ids(session: Session, store_id: int, contact_ids: set[int]) -> set[int]:
    """Which of ``contact_ids`` name active contacts of this store."""
    return repository.active_ids(session, store_id, contact_ids)


def read_contact(session: Session, store_id: int, contact_id: int) -> Contact:
    return view(session, get_contact(session, store_id, contact_id))


def views(session: Session, rows: list[ContactRow]) -> list[Contact]:
    """API views of ``rows``, with a constant number of queries for the whole page."""
    ids = [c.id for c in rows]
    external = repository.external_ids(session, ids)
    member_of = members.member_ids_by_contact(session, ids)
    lists_of = lists.list_ids_by_contact(session, ids)
    return [
        contact_view(
            c,
            external_ids=external.get(c.id, []),
            member_id=member_of.get(c.id),
            list_ids=lists_of.get(c.id, []),
        )
        for c in rows
    ]


def view(session: Session, row: ContactRow) -> Contact:
    return views(session, [row])[0]


def contact_events(
    session: Session, store_id: int, contact_id: int, page: PageParams
) -> tuple[list[EventView], int]:
    contact = get_contact(session, store_id, contact_id)
    rows, total = event_queries.contact_events(session, store_id, contact.id, page)
    return [event_view(e) for e in rows], total


# -- writing -------------------------------------------------------------------------------


def save_contact(session: Session, store_id: int, data: ContactCreate) -> tuple[Contact, bool]:
    """Create a contact, or update the one with this email; only supplied fields are set.
    Returns the contact and whether it was created."""
    email = _email(data.email)
    changes = {
        field: _blank_to_none(getattr(data, field))
        for field in data.model_fields_set
        if field != "email"
    }
    contact = repository.by_email(session, store_id, email)
    created = contact is None
    if contact is None:
        # A concurrent event with the same email may win the identifier: _claim turns that
        # into a 409 rather than two contacts for one person.
        contact = _create(session, store_id, email, source="api")
    _apply(session, contact, changes)
    return emit_updated(session, contact), created


def update_contact(
    session: Session, store_id: int, contact_id: int, data: ContactUpdate
) -> Contact:
    """Update a contact: only non-empty fields are set."""
    contact = get_contact(session, store_id, contact_id)
    changes = {
        field: value
        for field in data.model_fields_set
        if field != "email" and (value := getattr(data, field)) not in (None, "", [])
    }
    # The document requires email on update too; a different one re-keys the contact.
    _set_email(session, contact, _email(data.email))
    _apply(session, contact, changes)
    return emit_updated(session, contact)


def delete_contact(session: Session, store_id: int, contact_id: int) -> None:
    """Soft-delete: the row stays (its events keep their owner) but is invisible: its
    identifiers go, so the same email or phone comes back as a new contact, and the member,
    lists, form submissions and bookings that pointed at it no longer do."""
    contact = get_contact(session, store_id, contact_id)
    now = utcnow()
    # Soft, because events and merges reference the row; every read filters deleted_at.
    contact.deleted_at = now
    contact.updated_at = now
    repository.delete_identifiers(session, contact.id)
    lists.remove_contact(session, contact.id)
    members.unlink_contact(session, contact.id)
    forms.unlink_contact(session, contact.id)
    bookings.unlink_contact(session, contact.id)
    session.flush()
    emit(session, store_id, CONTACT_DELETED, {"contact_id": contact.id})


def upsert_person(
    session: Session,
    store_id: int,
    email: str,
    fields: dict[str, Any],
    *,
    source: str,
) -> tuple[ContactRow, bool]:
    """Find the contact owning ``email`` or create it, then set the non-empty ``fields``
    (API names). For forms, bookings and members; the caller emits (:func:`emit_updated`)
    once its own change is made. Returns the contact and whether anything changed."""
    normalized = _email(email)
    contact = repository.by_email(session, store_id, normalized)
    created = contact is None
    if contact is None:
        contact = _create(session, store_id, normalized, source=source)
    changed = _apply(session, contact, {k: v for k, v in fields.items() if v not in (None, "")})
    return contact, created or changed


def emit_updated(session: Session, contact: ContactRow) -> Contact:
    session.flush()
    shown = view(session, contact)
    emit(session, contact.store_id, CONTACT_UPDATED, shown.model_dump(mode="json"))
    return shown


def _create(session: Session, store_id: int, email: str, *, source: str) -> ContactRow:
    now = utcnow()
    contact = ContactRow(
        store_id=store_id,
        uuid=uuid.uuid4(),
        source=source,
        tags=[],
        custom_fields={},
        subscribed=False,
        is_contact=True,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    session.flush()
    _set_email(session, contact, email)
    return contact


def _apply(session: Session, contact: ContactRow, changes: dict[str, Any]) -> bool:
    """Set the given API fields on ``contact``; True if anything changed."""
    changed = False
    for field, value in changes.items():
        if field in TEXT_FIELDS:
            column = TEXT_FIELDS[field]
            if getattr(contact, column) != value:
                setattr(contact, column, value)
                changed = True
        elif field == "phone":
            changed |= _set_phone(session, contact, value)
        elif field == "tags":
            tags = list(dict.fromkeys(value or []))
            if tags != (contact.tags or []):
                contact.tags = tags
                changed = True
        elif field == "properties":
            merged = dict(contact.custom_fields or {})
            for prop in value or []:
                if prop.value is None:
                    merged.pop(prop.name, None)
                else:
                    merged[prop.name] = prop.value
            if merged != (contact.custom_fields or {}):
                contact.custom_fields = merged
                changed = True
        elif field == "subscribed":
            if value is not None and contact.subscribed != value:
                contact.subscribed = value
                changed = True
        elif field == "subscriberLists":
            changed |= _set_lists(session, contact, value or [])
    if changed:
        contact.updated_at = utcnow()
    return changed


def _set_email(session: Session, contact: ContactRow, email: str) -> None:
    if email == contact.email:
        return
    if not _claim(session, contact, "email", email):
        raise Conflict(EMAIL_TAKEN)
    if contact.email:
        repository.delete_identifier(session, contact.id, "email", contact.email)
    contact.email = email
    contact.updated_at = utcnow()


def _set_phone(session: Session, contact: ContactRow, raw: str | None) -> bool:
    """Store the phone (E.164 when valid) and move the phone identifier with it. A phone
    another contact already owns stays that contact's identifier: two people may share one."""
    normalized = normalize_phone(raw)
    shown = normalized or (raw.strip() if raw else None) or None
    if shown == contact.phone:
        return False
    previous = normalize_phone(contact.phone)
    if previous is not None:
        repository.delete_identifier(session, contact.id, "phone", previous)
    contact.phone = shown
    if normalized is not None:
        _claim(session, contact, "phone", normalized)
    return True


def _set_lists(session: Session, contact: ContactRow, list_ids: list[int]) -> bool:
    wanted = {i for i in list_ids if i != 0}  # 0 is the document's "no list"
    missing = sorted(wanted - lists.existing_ids(session, contact.store_id, wanted))
    if missing:
        raise ValidationFailed(
            {"subscriberLists": [f"The subscriber list {i} does not exist." for i in missing]}
        )
    current = set(lists.list_ids_by_contact(session, [contact.id]).get(contact.id, []))
    if current == wanted:
        return False
    lists.remove_contact(session, contact.id, current - wanted)
    lists.add(session, [(list_id, contact.id) for list_id in sorted(wanted - current)])
    return True


def _claim(session: Session, contact: ContactRow, kind: str, value: str) -> bool:
    """Give ``contact`` the identifier unless another contact owns it. The savepoint turns
    a concurrent insert of the same identifier (the event writer's) into a refusal."""
    owner = repository.identifier_owner(session, contact.store_id, kind, value)
    if owner is not None:
        return owner == contact.id
    try:
        with session.begin_nested():
            session.add(
                ContactIdentifier(
                    store_id=contact.store_id,
                    contact_id=contact.id,
                    kind=kind,
                    value=value,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        return False
    return True


def _email(raw: str) -> str:
    email = normalize_email(raw)
    if email is None:  # the schema's Email type already refused blanks
        raise ValidationFailed({"email": ["The email field is required."]})
    return email


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value
