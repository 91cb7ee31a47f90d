"""When identity resolution merges two contacts, the orders, carts and customer
subscriptions of the merged contact follow it to the surviving one (outbox consumer of
``contact_merged``, registered in :mod:`cartwheel.worker.registry`)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from cartwheel.models import Cart, Contact, CustomerSubscription, Order, OutboxMessage
from cartwheel.outbox import CONTACT_MERGED


def follow_merge(session: Session, message: OutboxMessage) -> None:
    if message.topic != CONTACT_MERGED:
        return
    payload = message.payload or {}
    source_id, target_id = payload.get("merged_contact_id"), payload.get("contact_id")
    if not isinstance(source_id, int) or not isinstance(target_id, int):
        return
    source, target = session.get(Contact, source_id), session.get(Contact, target_id)
    if source is None or target is None or source.store_id != message.store_id:
        return
    if source.merged_into_id is None or target.store_id != source.store_id:
        return  # undone before this ran, or not one store's contacts: nothing to follow
    # No order_updated is emitted: contact_merged already tells consumers who is who.
    for model in (Order, Cart, CustomerSubscription):
        session.execute(
            update(model)
            .where(model.store_id == message.store_id, model.contact_id == source_id)
            .values(contact_id=target_id)
        )
