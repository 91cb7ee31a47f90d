"""Background work of the people side.

When the resolver merges two contacts it moves their identifiers and events; the records
that point at a contact from the people side (list memberships, the member link, form
submissions, bookings) follow here, from the ``contact_merged`` outbox message."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cartwheel.bookings import repository as bookings
from cartwheel.forms import repository as forms
from cartwheel.lists import repository as lists
from cartwheel.members import repository as members
from cartwheel.models import Contact, OutboxMessage
from cartwheel.outbox import CONTACT_MERGED


def wants(_session: Session, message: Any) -> bool:
    """Only merges (asked with the message's header)."""
    return bool(message.topic == CONTACT_MERGED)


def follow_merge(session: Session, message: OutboxMessage) -> None:
    """Outbox consumer: give the surviving contact what pointed at the merged one."""
    if message.topic != CONTACT_MERGED:
        return
    payload = message.payload or {}
    source_id, target_id = payload.get("merged_contact_id"), payload.get("contact_id")
    if not isinstance(source_id, int) or not isinstance(target_id, int):
        return
    source, target = session.get(Contact, source_id), session.get(Contact, target_id)
    # Payloads are ours, but a consumer never trusts them across tenants.
    if source is None or target is None or source.store_id != target.store_id:
        return
    if source.merged_into_id is None:
        return  # the merge was undone before this ran: nothing to follow
    lists.move_contact(session, source_id, target_id)
    members.relink_contact(session, source_id, target_id)
    forms.move_contact(session, source_id, target_id)
    bookings.move_contact(session, source_id, target_id)
