"""Contact queries, always scoped by store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cartwheel.models import Contact, ContactIdentifier


def active_contacts(store_id: int) -> Select[Any]:
    """Contacts of a store that are neither deleted nor merged into another."""
    return select(Contact).where(
        Contact.store_id == store_id,
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


def get(session: Session, store_id: int, contact_id: int) -> Contact | None:
    """A contact by id; a merged contact's id resolves to the one it was merged into."""
    for _ in range(10):
        contact = session.get(Contact, contact_id)
        if contact is None or contact.store_id != store_id or contact.deleted_at is not None:
            return None
        if contact.merged_into_id is None:
            return contact
        contact_id = contact.merged_into_id
    return None


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
