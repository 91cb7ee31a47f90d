"""Who may be sent what: consent per contact, channel and topic, and the suppression list.

- **Transactional** messages ignore marketing consent; only an explicit transactional
  opt-out (a ``contact_consents`` row) stops them.
- **Marketing email** follows the contact's ``subscribed`` flag, which the event formats'
  ``subscribed`` signals and the store data API set: the latest signal wins. Unsubscribing
  through a link clears it (and records a ``contact_consents`` row saying when and how), so
  segments on consent see it too; the store subscribing the contact again sets it again.
- **Marketing SMS** needs a granted row: silence is no consent to texts.
- **Suppressed** addresses (hard bounce, complaint, SMS STOP, manual) receive nothing,
  whatever the topic; checked when the message is sent.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cartwheel.contacts import service as contacts
from cartwheel.exceptions import NotFound, ValidationFailed
from cartwheel.identity.addresses import is_valid_email, normalize_email, normalize_phone
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.messages.schemas import Suppression, SuppressionCreate
from cartwheel.models import Contact, ContactConsent
from cartwheel.models import Suppression as SuppressionRow
from cartwheel.models.base import utcnow

HARD_BOUNCE = "hard_bounce"
COMPLAINT = "complaint"
MANUAL = "manual"
SMS_STOP = "sms_stop"


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def may_send(session: Session, contact: Contact, channel: str, topic: str) -> str | None:
    """None if the contact may be sent a message of this channel and topic; else why not."""
    recorded = recorded_consents(session, [contact.id]).get((contact.id, channel, topic))
    return decide(contact, channel, topic, recorded)


def recorded_consents(session: Session, contact_ids: list[int]) -> dict[tuple[int, str, str], bool]:
    """The recorded consents of these contacts: (contact, channel, topic) → granted."""
    if not contact_ids:
        return {}
    query = select(
        ContactConsent.contact_id,
        ContactConsent.channel,
        ContactConsent.topic,
        ContactConsent.granted,
    ).where(ContactConsent.contact_id.in_(contact_ids))
    return {(c, ch, t): g for c, ch, t, g in session.execute(query)}


def decide(contact: Contact, channel: str, topic: str, row: bool | None) -> str | None:
    """The rule (the module's docstring), given the contact's recorded consent, if any."""
    if topic == "transactional":
        return "The contact opted out of transactional messages." if row is False else None
    if channel == "email":
        # The flag is the one truth: an unsubscribe link clears it, and a later signal from
        # the store (an event or API call with subscribed: true) sets it again.
        return None if contact.subscribed else "The contact has not consented to email marketing."
    if row is not None:
        return None if row else "The contact unsubscribed from SMS marketing."
    return "The contact has not consented to SMS marketing."


def set_consent(
    session: Session, contact: Contact, channel: str, topic: str, granted: bool, source: str
) -> None:
    """Record a consent (or its withdrawal); email marketing also sets ``subscribed``."""
    now = utcnow()
    values = {
        "store_id": contact.store_id,
        "contact_id": contact.id,
        "channel": channel,
        "topic": topic,
        "granted": granted,
        "source": source,
        "created_at": now,
        "updated_at": now,
    }
    statement = _insert(session)(ContactConsent).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["contact_id", "channel", "topic"],
            set_={"granted": granted, "source": source, "updated_at": now},
        )
    )
    if channel == "email" and topic == "marketing" and contact.subscribed != granted:
        contact.subscribed = granted
        contact.updated_at = now
        session.flush()
        contacts.emit_updated(session, contact)


def normalize_address(channel: str, raw: str) -> str | None:
    if channel == "email":
        email = normalize_email(raw)
        return email if email and is_valid_email(email) else None
    return normalize_phone(raw)


def is_suppressed(session: Session, store_id: int, channel: str, address: str) -> str | None:
    """The reason the address is suppressed, if it is."""
    return session.scalar(
        select(SuppressionRow.reason).where(
            SuppressionRow.store_id == store_id,
            SuppressionRow.channel == channel,
            SuppressionRow.address == address,
        )
    )


def suppressed(
    session: Session, store_id: int, channel: str, addresses: set[str]
) -> dict[str, str]:
    """Which of ``addresses`` the store suppresses on the channel, with the reason."""
    if not addresses:
        return {}
    query = select(SuppressionRow.address, SuppressionRow.reason).where(
        SuppressionRow.store_id == store_id,
        SuppressionRow.channel == channel,
        SuppressionRow.address.in_(addresses),
    )
    return {address: reason for address, reason in session.execute(query)}


def suppress(
    session: Session, store_id: int, channel: str, address: str, reason: str, detail: str | None
) -> None:
    """Add the address to the store's suppression list (kept as it is if already there)."""
    session.execute(
        _insert(session)(SuppressionRow)
        .values(
            store_id=store_id,
            channel=channel,
            address=address,
            reason=reason,
            detail=detail[:1000] if detail else None,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["store_id", "channel", "address"])
    )


def view(row: SuppressionRow) -> Suppression:
    return Suppression(
        id=row.id,
        channel=row.channel,
        address=row.address,
        reason=row.reason,
        detail=row.detail,
        created=row.created_at,
    )


def list_suppressions(
    session: Session, store_id: int, page: PageParams, channel: str | None, address: str | None
) -> tuple[list[Suppression], int]:
    query = select(SuppressionRow).where(SuppressionRow.store_id == store_id)
    if channel is not None:
        query = query.where(SuppressionRow.channel == channel)
    if address is not None:
        normalized = normalize_address(channel or "email", address) or address
        query = query.where(SuppressionRow.address == normalized)
    rows, total = paginate(session, query.order_by(SuppressionRow.id), page)
    return [view(r) for r in rows], total


def add_suppression(session: Session, store_id: int, data: SuppressionCreate) -> Suppression:
    address = normalize_address(data.channel, data.address)
    if address is None:
        what = "an email address" if data.channel == "email" else "a phone number"
        raise ValidationFailed({"address": [f"The address is not {what}."]})
    suppress(session, store_id, data.channel, address, data.reason, None)
    row = session.scalars(
        select(SuppressionRow).where(
            SuppressionRow.store_id == store_id,
            SuppressionRow.channel == data.channel,
            SuppressionRow.address == address,
        )
    ).one()
    return view(row)


def remove_suppression(session: Session, store_id: int, suppression_id: int) -> None:
    result = session.execute(
        delete(SuppressionRow).where(
            SuppressionRow.store_id == store_id, SuppressionRow.id == suppression_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("Suppression not found.")
