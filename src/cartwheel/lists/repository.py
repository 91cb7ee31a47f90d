"""Subscriber list queries, always scoped by store. Counts and memberships only ever
include the store's active contacts (not deleted, not merged away)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.orm import Session

from cartwheel.contacts import repository as contacts
from cartwheel.kit.requests import is_id
from cartwheel.models import Campaign, Contact, Message, SubscriberList, SubscriberListContact


def store_lists(store_id: int) -> Select[Any]:
    return select(SubscriberList).where(SubscriberList.store_id == store_id)


def get(session: Session, store_id: int, list_id: int) -> SubscriberList | None:
    if not is_id(list_id):
        return None
    row = session.get(SubscriberList, list_id)
    if row is None or row.store_id != store_id:
        return None
    return row


def subscriber_counts(session: Session, list_ids: list[int]) -> dict[int, int]:
    if not list_ids:
        return {}
    # Joined to contacts so a deleted or merged-away contact stops counting at once,
    # without waiting for anything to clean its membership up.
    query = (
        select(SubscriberListContact.list_id, func.count())
        .join(Contact, Contact.id == SubscriberListContact.contact_id)
        .where(
            SubscriberListContact.list_id.in_(list_ids),
            Contact.deleted_at.is_(None),
            Contact.merged_into_id.is_(None),
        )
        .group_by(SubscriberListContact.list_id)
    )
    return {list_id: count for list_id, count in session.execute(query)}


def list_contacts(store_id: int, list_id: int) -> Select[Any]:
    """The list's active contacts, in the order they were added."""
    members = select(SubscriberListContact.contact_id).where(
        SubscriberListContact.list_id == list_id
    )
    return contacts.active_contacts(store_id).where(Contact.id.in_(members)).order_by(Contact.id)


def member_contact_ids(session: Session, list_id: int, contact_ids: set[int]) -> set[int]:
    """Which of ``contact_ids`` are on the list already."""
    if not contact_ids:
        return set()
    query = select(SubscriberListContact.contact_id).where(
        SubscriberListContact.list_id == list_id,
        SubscriberListContact.contact_id.in_(contact_ids),
    )
    return set(session.execute(query).scalars())


def remove(session: Session, list_id: int, contact_ids: set[int]) -> None:
    if contact_ids:
        session.execute(
            delete(SubscriberListContact).where(
                SubscriberListContact.list_id == list_id,
                SubscriberListContact.contact_id.in_(contact_ids),
            )
        )


def delete_list(session: Session, list_id: int) -> None:
    session.execute(delete(SubscriberListContact).where(SubscriberListContact.list_id == list_id))
    session.execute(delete(SubscriberList).where(SubscriberList.id == list_id))


def campaign_rates(session: Session, list_ids: list[int]) -> dict[int, tuple[float, float]]:
    """Open and click rates (0 to 1) of the campaigns sent to each list: messages opened
    (clicked) at least once over messages delivered."""
    if not list_ids:
        return {}
    delivered = Message.status == "sent"
    query = (
        select(
            Campaign.list_id,
            func.count(),
            func.sum(case((Message.opened_at.is_not(None), 1), else_=0)),
            func.sum(case((Message.clicked_at.is_not(None), 1), else_=0)),
        )
        .join(Message, Message.campaign_id == Campaign.id)
        .where(Campaign.list_id.in_(list_ids), delivered)
        .group_by(Campaign.list_id)
    )
    return {
        list_id: ((opened or 0) / sent, (clicked or 0) / sent)
        for list_id, sent, opened, clicked in session.execute(query)
        if list_id is not None and sent
    }
