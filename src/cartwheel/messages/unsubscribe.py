"""Unsubscribing through a message's signed link (RFC 8058 one-click, or the page's button)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from cartwheel.contacts import repository as contact_rows
from cartwheel.messages import consent, links
from cartwheel.models import Message
from cartwheel.models.base import utcnow


def unsubscribe(session: Session, token: str) -> bool:
    """Withdraw the consent the token names; False when the token is not a valid one (or
    its contact is gone). Unsubscribing twice is harmless."""
    claims = links.read_unsubscribe(token)
    if claims is None:
        return False
    contact = contact_rows.get(session, claims.store_id, claims.contact_id)
    if contact is None:
        return False
    consent.set_consent(session, contact, claims.channel, claims.topic, False, "unsubscribe_link")
    if claims.message_id is not None:
        session.execute(
            update(Message)
            .where(
                Message.store_id == claims.store_id,
                Message.id == claims.message_id,
                Message.unsubscribed_at.is_(None),
            )
            .values(unsubscribed_at=utcnow())
        )
    return True


def is_valid(token: str) -> bool:
    return links.read_unsubscribe(token) is not None
