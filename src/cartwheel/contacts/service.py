"""Contact reads for the native API."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cartwheel.contacts import repository
from cartwheel.contacts.schemas import ContactView, EventView, contact_view, event_view
from cartwheel.events import queries as event_queries
from cartwheel.exceptions import NotFound
from cartwheel.ingest.normalize import normalize_email, normalize_external_id, normalize_phone
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import Contact


def find_contacts(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
) -> tuple[list[ContactView], int]:
    query = repository.active_contacts(store_id)
    for kind, value in (
        ("email", normalize_email(email)),
        ("phone", normalize_phone(phone)),
        ("external", normalize_external_id(external_id)),
    ):
        if value is not None:
            query = query.where(
                Contact.id.in_(
                    repository.by_identifier(store_id, kind, value).with_only_columns(Contact.id)
                )
            )
    if phone is not None and normalize_phone(phone) is None:
        return [], 0
    rows, total = paginate(session, query.order_by(Contact.id), page)
    return views(session, rows), total


def views(session: Session, contacts: list[Contact]) -> list[ContactView]:
    ids = repository.external_ids(session, [c.id for c in contacts])
    return [contact_view(c, ids.get(c.id, [])) for c in contacts]


def get_contact(session: Session, store_id: int, contact_id: int) -> Contact:
    contact = repository.get(session, store_id, contact_id)
    if contact is None:
        raise NotFound("Contact not found.")
    return contact


def contact_events(
    session: Session, store_id: int, contact_id: int, page: PageParams
) -> tuple[list[EventView], int]:
    contact = get_contact(session, store_id, contact_id)
    rows, total = event_queries.contact_events(session, store_id, contact.id, page)
    return [event_view(e) for e in rows], total
