"""Recording and listing bookings. A booking and the contact its email creates or updates
are written in one transaction, with ``booking_created`` in the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cartwheel.bookings import repository
from cartwheel.bookings.schemas import Booking, BookingCreate, booking_view
from cartwheel.contacts import service as contacts
from cartwheel.exceptions import ValidationFailed
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.kit.requests import from_unix
from cartwheel.models import Booking as BookingRow
from cartwheel.models.base import utcnow
from cartwheel.outbox import emit

BOOKING_CREATED = "booking_created"


def create_booking(session: Session, store_id: int, data: BookingCreate) -> Booking:
    # Checked here rather than in the schema so the message names the `end` field.
    if data.end < data.start:
        raise ValidationFailed({"end": ["The end field must not be before the start."]})
    contact, changed = contacts.upsert_person(
        session, store_id, data.email, {"name": data.name}, source="booking"
    )
    if changed:
        contacts.emit_updated(session, contact)
    row = BookingRow(
        store_id=store_id,
        event_id=data.eventId,
        contact_id=contact.id,
        name=data.name,
        email=contact.email or data.email,  # normalized, as the contact has it
        start_at=from_unix(data.start),
        end_at=from_unix(data.end),
        event_data=data.eventData.model_dump() if data.eventData else None,
        operator=data.operator.model_dump() if data.operator else None,
        service=data.service.model_dump() if data.service else None,
        form_answers=[a.model_dump() for a in data.formAnswers or []],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    booking = booking_view(row)
    emit(session, store_id, BOOKING_CREATED, booking.model_dump(mode="json"))
    return booking


def list_bookings(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    start_from: datetime | None,
    start_to: datetime | None,
    event_id: int | None,
) -> tuple[list[Booking], int]:
    query = repository.store_bookings(
        store_id, start_from=start_from, start_to=start_to, event_id=event_id
    )
    rows, total = paginate(session, query, page)
    return [booking_view(r) for r in rows], total
