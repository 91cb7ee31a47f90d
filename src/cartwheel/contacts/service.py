"""Contacts through the store data API: the same rows the event APIs resolve.

Email and phone are identities, not just fields: finding, creating and re-keying a contact
goes through the one identity resolver (:mod:`cartwheel.identity.resolver`) with a policy
(the API refuses an email another contact owns with a 409), on this session's connection and
transaction. Delete follows the registry of what a contact owns
(:mod:`cartwheel.identity.owned`). Every change emits ``contact_updated`` with the contact in
its API shape, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartwheel.contacts import repository
from cartwheel.contacts.schemas import Contact, ContactCreate, ContactUpdate, contact_view
from cartwheel.events import queries as event_queries
from cartwheel.events.schemas import EventView, event_view
from cartwheel.exceptions import BadRequest, Conflict, NotFound, ValidationFailed
from cartwheel.identity import owned
from cartwheel.identity.addresses import normalize_email, normalize_external_id, normalize_phone
from cartwheel.identity.resolver import EMAIL_TAKEN, BatchResolver, Policy
from cartwheel.ingest.canonical import IdentifierKind, IdentityHints
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import Contact as ContactRow
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


#: The most contacts a search answers with.
SEARCH_LIMIT = 50


def search_contacts(
    session: Session, store_id: int, text: str, limit: int = SEARCH_LIMIT
) -> list[Contact]:
    """Active contacts for a search box. ``text`` that is an email, a phone number or an
    external id of someone (normalized as the resolver does) finds exactly its owners;
    otherwise, contacts whose name, first or last name contains it or whose email starts
    with it (ignoring case), newest first: a scan, which stops at ``limit`` matches. Blank
    text: the newest contacts (by the store's creation-time index)."""
    text = text.strip()
    if not text:
        query = repository.active_contacts(store_id).order_by(
            ContactRow.created_at.desc(), ContactRow.id.desc()
        )
        return views(session, list(session.execute(query.limit(limit)).scalars()))
    owners: list[int] = []
    for kind, value in (
        ("email", normalize_email(text) if "@" in text else None),
        ("phone", normalize_phone(text) if any(c.isdigit() for c in text) else None),
        ("external", normalize_external_id(text)),
    ):
        if value is not None:
            owners.extend(repository.identifier_owners(session, store_id, kind, value))
    if owners:
        query = repository.active_contacts(store_id).where(ContactRow.id.in_(owners))
    else:
        query = repository.scan_contacts(store_id).where(repository.name_or_email_matches(text))
    rows = list(session.execute(query.order_by(ContactRow.id.desc()).limit(limit)).scalars())
    return views(session, rows)


def identifiers(session: Session, store_id: int, contact_id: int) -> list[tuple[str, str]]:
    """The (kind, value) identifiers that resolve to the contact, in the order they came."""
    contact = get_contact(session, store_id, contact_id)
    return repository.identifiers(session, store_id, contact.id)


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
    member_of = repository.member_ids_by_contact(session, ids)
    lists_of = repository.list_ids_by_contact(session, ids)
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
    contact, created = _person(session, store_id, [("email", email)], Policy.REFUSE, "api")
    _apply(session, contact, changes, Policy.REFUSE)
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
    _apply(session, contact, changes, Policy.REFUSE)
    return emit_updated(session, contact)


def delete_contact(session: Session, store_id: int, contact_id: int) -> None:
    """Soft-delete: the row stays but is invisible. What it owns goes as the registry says
    (:data:`~cartwheel.identity.owned.OWNED`): its identifiers and list memberships are
    deleted, so the same email or phone comes back as a new contact; the member, form
    submissions and bookings are unlinked; events, orders, carts and subscriptions stay."""
    # The contact itself, never the one a merged-away id resolves to.
    contact = repository.get_active(session, store_id, contact_id)
    if contact is None:
        raise NotFound("Contact not found.")
    now = utcnow()
    # Soft, because events and merges reference the row; every read filters deleted_at.
    contact.deleted_at = now
    contact.updated_at = now
    session.flush()
    owned.release(session.connection(), contact.id)
    emit(session, store_id, CONTACT_DELETED, {"contact_id": contact.id})


def upsert_person(
    session: Session,
    store_id: int,
    email: str,
    fields: dict[str, Any],
    *,
    source: str,
    policy: Policy = Policy.RECORD,
) -> tuple[ContactRow, bool]:
    """Find the contact owning ``email`` or create it, then set the non-empty ``fields``
    (API names). For forms, bookings and members: by default a phone another contact owns
    stays with it and is recorded as a conflict, never merged. The caller emits
    (:func:`emit_updated`) once its own change is made. Returns the contact and whether
    anything changed."""
    contact, created = _person(session, store_id, [("email", _email(email))], policy, source)
    fields = {k: v for k, v in fields.items() if v not in (None, "")}
    changed = _apply(session, contact, fields, policy)
    return contact, created or changed


def set_fields(
    session: Session, contact: ContactRow, fields: dict[str, Any], custom: dict[str, Any]
) -> bool:
    """Set API text fields (and ``subscribed``) and custom fields (``None`` removes one) on
    an existing contact, emitting ``contact_updated`` if anything changed (a flow's
    ``update_profile`` step). Returns whether anything changed."""
    changes = dict(fields)
    if custom:
        changes["properties"] = [_Property(name, value) for name, value in custom.items()]
    changed = _apply(session, contact, changes, Policy.RECORD)
    if changed:
        emit_updated(session, contact)
    return changed


@dataclass(frozen=True, slots=True)
class _Property:
    name: str
    value: Any


def emit_updated(session: Session, contact: ContactRow) -> Contact:
    session.flush()
    shown = view(session, contact)
    emit(session, contact.store_id, CONTACT_UPDATED, shown.model_dump(mode="json"))
    return shown


def _person(
    session: Session,
    store_id: int,
    identifiers: list[tuple[IdentifierKind, str]],
    policy: Policy,
    source: str,
    *,
    create: bool = True,
) -> tuple[ContactRow, bool]:
    """Run the identity resolver for one person on this session's transaction and return
    the (re-loaded) contact and whether it was created. ``identifiers`` in priority order."""
    hints = IdentityHints(create=create)
    for kind, value in identifiers:
        hints.add(kind, value)
    session.flush()  # the resolver reads and writes with Core on the same connection
    try:
        with session.begin_nested():
            resolver = BatchResolver(session.connection(), utcnow(), policy)
            person = resolver.person(store_id, hints, source=source)
    except IntegrityError:
        # A concurrent writer (an event) took the identifier first: refuse rather than
        # make two contacts for one person.
        raise Conflict(EMAIL_TAKEN) from None
    contact = session.get(ContactRow, person.id, populate_existing=True)
    assert contact is not None
    return contact, person.created


def _apply(session: Session, contact: ContactRow, changes: dict[str, Any], policy: Policy) -> bool:
    """Set the given API fields on ``contact``; True if anything changed."""
    changed = False
    for field, value in changes.items():
        if field in TEXT_FIELDS:
            column = TEXT_FIELDS[field]
            if getattr(contact, column) != value:
                setattr(contact, column, value)
                changed = True
        elif field == "phone":
            changed |= _set_phone(session, contact, value, policy)
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
    """Re-key the contact: the resolver gives it the new email (409 if another contact owns
    it); the old email stops naming it."""
    if email == contact.email:
        return
    previous = contact.email
    by_id: list[tuple[IdentifierKind, str]] = [("contact_id", str(contact.id)), ("email", email)]
    _person(session, contact.store_id, by_id, Policy.REFUSE, "api", create=False)
    if previous:
        repository.delete_identifier(session, contact.id, "email", previous)
    contact.updated_at = utcnow()


def _set_phone(session: Session, contact: ContactRow, raw: str | None, policy: Policy) -> bool:
    """Store the phone (E.164; an invalid one is a 422) and move the phone identifier
    with it. A phone another contact already owns is decided by the resolver under
    ``policy`` (the API's and the forms' leave it with that contact: two may share one)."""
    normalized = normalize_phone(raw)
    if normalized is None and raw and raw.strip():
        # The schemas refuse it first; this keeps every caller to the one rule.
        raise ValidationFailed({"phone": ["The phone field must be a valid phone number."]})
    shown = normalized
    if shown == contact.phone:
        return False
    previous = normalize_phone(contact.phone)
    if previous is not None:
        repository.delete_identifier(session, contact.id, "phone", previous)
    contact.phone = shown
    if normalized is not None:
        by_id: list[tuple[IdentifierKind, str]] = [("contact_id", str(contact.id))]
        _person(session, contact.store_id, [*by_id, ("phone", normalized)], policy, "api")
    return True


def _set_lists(session: Session, contact: ContactRow, list_ids: list[int]) -> bool:
    wanted = {i for i in list_ids if i != 0}  # 0 is the document's "no list"
    missing = sorted(wanted - repository.existing_list_ids(session, contact.store_id, wanted))
    if missing:
        raise ValidationFailed(
            {"subscriberLists": [f"The subscriber list {i} does not exist." for i in missing]}
        )
    current = set(repository.list_ids_by_contact(session, [contact.id]).get(contact.id, []))
    if current == wanted:
        return False
    repository.remove_from_lists(session, contact.id, current - wanted)
    repository.add_to_lists(
        session, [(list_id, contact.id) for list_id in sorted(wanted - current)]
    )
    return True


def _email(raw: str) -> str:
    email = normalize_email(raw)
    if email is None:  # the schema's Email type already refused blanks
        raise ValidationFailed({"email": ["The email field is required."]})
    return email


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value
