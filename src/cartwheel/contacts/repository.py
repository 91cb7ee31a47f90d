"""Contact queries, always scoped by store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cartwheel.kit.requests import is_id
from cartwheel.models import (
    Base,
    Contact,
    ContactIdentifier,
    Member,
    SubscriberList,
    SubscriberListContact,
)
from cartwheel.models.base import utcnow


def active_contacts(store_id: int) -> Select[Any]:
    """Contacts of a store that are neither deleted nor merged into another, nor anonymous
    profiles (a visitor known only by an anonymous id is not a contact until identified)."""
    return select(Contact).where(
        Contact.store_id == store_id,
        Contact.deleted_at.is_(None),
        Contact.merged_into_id.is_(None),
        Contact.is_contact.is_(True),
    )


def scan_contacts(store_id: int) -> Select[Any]:
    """:func:`active_contacts` for a scan newest first by id: the store is compared as
    ``store_id + 0`` so that the planner walks the table by id (and stops at the query's
    limit) instead of reading every row of the store by its creation-time index and
    sorting them (measured on 100,000 contacts: bench/admin.py)."""
    return select(Contact).where(
        (Contact.store_id + 0) == store_id,
        Contact.deleted_at.is_(None),
        Contact.merged_into_id.is_(None),
    )


def by_identifier(store_id: int, kind: str, value: str) -> Select[Any]:
    owner = select(ContactIdentifier.contact_id).where(
        ContactIdentifier.store_id == store_id,
        ContactIdentifier.kind == kind,
        ContactIdentifier.value == value,
    )
    return active_contacts(store_id).where(Contact.id.in_(owner))


def identifier_owners(session: Session, store_id: int, kind: str, value: str) -> list[int]:
    return list(
        session.execute(
            select(ContactIdentifier.contact_id).where(
                ContactIdentifier.store_id == store_id,
                ContactIdentifier.kind == kind,
                ContactIdentifier.value == value,
            )
        ).scalars()
    )


def name_or_email_matches(text: str) -> ColumnElement[bool]:
    """Name, first or last name containing ``text``, or email starting with it (any case;
    ``%`` and ``_`` match themselves)."""
    lowered = text.lower()
    return or_(
        func.lower(Contact.name).contains(lowered, autoescape=True),
        func.lower(Contact.first_name).contains(lowered, autoescape=True),
        func.lower(Contact.last_name).contains(lowered, autoescape=True),
        Contact.email.startswith(lowered, autoescape=True),
    )


def identifiers(session: Session, store_id: int, contact_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(ContactIdentifier.kind, ContactIdentifier.value)
        .where(ContactIdentifier.store_id == store_id, ContactIdentifier.contact_id == contact_id)
        .order_by(ContactIdentifier.id)
    )
    return [(kind, value) for kind, value in rows]


def created_between(
    query: Select[Any], created_min: datetime | None, created_max: datetime | None
) -> Select[Any]:
    """Both bounds inclusive, to the second (``created_max`` covers its whole second)."""
    if created_min is not None:
        query = query.where(Contact.created_at >= created_min)
    if created_max is not None:
        query = query.where(Contact.created_at < created_max + timedelta(seconds=1))
    return query


def get(session: Session, store_id: int, contact_id: int) -> Contact | None:
    """A contact by id; a merged contact's id resolves to the one it was merged into."""
    if not is_id(contact_id):
        return None
    for _ in range(10):
        contact = session.get(Contact, contact_id)
        if contact is None or contact.store_id != store_id or contact.deleted_at is not None:
            return None
        if contact.merged_into_id is None:
            return contact if contact.is_contact else None
        contact_id = contact.merged_into_id
    return None


def get_active(session: Session, store_id: int, contact_id: int) -> Contact | None:
    """A contact by id if it is active itself (not deleted, not merged into another)."""
    if not is_id(contact_id):
        return None
    contact = session.get(Contact, contact_id)
    if contact is None or contact.store_id != store_id or contact.deleted_at is not None:
        return None
    return contact if contact.merged_into_id is None and contact.is_contact else None


def by_email(session: Session, store_id: int, email: str) -> Contact | None:
    """The active contact owning ``email`` (normalized), if any."""
    # Through the identifier, not contacts.email: that column is only the display value,
    # and the identifier table is what the event resolver matches on.
    found: Contact | None = session.execute(
        by_identifier(store_id, "email", email)
    ).scalar_one_or_none()
    return found


def active_ids(session: Session, store_id: int, contact_ids: set[int]) -> set[int]:
    """Which of ``contact_ids`` are active contacts of the store."""
    if not contact_ids:
        return set()
    query = active_contacts(store_id).with_only_columns(Contact.id)
    return set(session.execute(query.where(Contact.id.in_(contact_ids))).scalars())


def delete_identifier(session: Session, contact_id: int, kind: str, value: str) -> None:
    session.execute(
        delete(ContactIdentifier).where(
            ContactIdentifier.contact_id == contact_id,
            ContactIdentifier.kind == kind,
            ContactIdentifier.value == value,
        )
    )


def external_ids(session: Session, contact_ids: list[int]) -> dict[int, list[str]]:
    if not contact_ids:
        return {}
    rows = session.execute(
        select(ContactIdentifier.contact_id, ContactIdentifier.value)
        .where(ContactIdentifier.contact_id.in_(contact_ids), ContactIdentifier.kind == "external")
        .order_by(ContactIdentifier.id)
    )
    out: dict[int, list[str]] = {}
    for contact_id, value in rows:
        out.setdefault(contact_id, []).append(value)
    return out


def insert_missing(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert link rows, skipping any whose key exists: two requests adding the same link
    at once both succeed instead of one failing on the primary key."""
    if not rows:
        return
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).on_conflict_do_nothing(), rows)


# -- what the contact view shows of rows other domains hold --------------------------------
# Here rather than in lists/ or members/: those domains use contacts, so contacts reads the
# tables directly instead of importing them back.


def member_ids_by_contact(session: Session, contact_ids: list[int]) -> dict[int, int]:
    """The member of each contact (the first, should a contact have several)."""
    if not contact_ids:
        return {}
    rows = session.execute(
        select(Member.contact_id, func.min(Member.id))
        .where(Member.contact_id.in_(contact_ids))
        .group_by(Member.contact_id)
    )
    return {contact_id: member_id for contact_id, member_id in rows if contact_id is not None}


def list_ids_by_contact(session: Session, contact_ids: list[int]) -> dict[int, list[int]]:
    if not contact_ids:
        return {}
    rows = session.execute(
        select(SubscriberListContact.contact_id, SubscriberListContact.list_id)
        .where(SubscriberListContact.contact_id.in_(contact_ids))
        .order_by(SubscriberListContact.list_id)
    )
    out: dict[int, list[int]] = {}
    for contact_id, list_id in rows:
        out.setdefault(contact_id, []).append(list_id)
    return out


def existing_list_ids(session: Session, store_id: int, list_ids: set[int]) -> set[int]:
    if not list_ids:
        return set()
    query = select(SubscriberList.id).where(
        SubscriberList.store_id == store_id, SubscriberList.id.in_(list_ids)
    )
    return set(session.execute(query).scalars())


def add_to_lists(session: Session, pairs: list[tuple[int, int]]) -> None:
    """Insert (list id, contact id) memberships (existing ones are left as they are)."""
    insert_missing(
        session,
        SubscriberListContact,
        [
            {"list_id": list_id, "contact_id": contact_id, "created_at": utcnow()}
            for list_id, contact_id in pairs
        ],
    )


def remove_from_lists(session: Session, contact_id: int, list_ids: set[int]) -> None:
    if list_ids:
        session.execute(
            delete(SubscriberListContact).where(
                SubscriberListContact.contact_id == contact_id,
                SubscriberListContact.list_id.in_(list_ids),
            )
        )
