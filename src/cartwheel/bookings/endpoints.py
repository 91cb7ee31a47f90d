"""Bookings in the store data API (secret key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.bookings import service
from cartwheel.bookings.schemas import BOOKING_REQUEST_EXAMPLE, Booking, BookingCreate
from cartwheel.kit.errors import ERROR_RESPONSES, native_router
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.requests import (
    MAX_EXTERNAL_ID,
    JsonObject,
    int_param,
    timestamp_param,
    validate,
)
from cartwheel.kit.session import ReadSession, WriteSession

router = native_router(prefix="/v1", tags=["bookings"], responses=ERROR_RESPONSES)


@dataclass(frozen=True, slots=True)
class BookingFilter:
    start_from: datetime | None
    start_to: datetime | None
    event_id: int | None


def booking_filter(
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="List only bookings starting after this Unix timestamp (seconds, "
            "inclusive). Example: 1573251649.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            description="List only bookings starting before this Unix timestamp (seconds, "
            "inclusive). Example: 1573251649.",
        ),
    ] = None,
    eventId: Annotated[
        str | None,
        Query(description="List only bookings of this event id (integer). Example: 123."),
    ] = None,
) -> BookingFilter:
    return BookingFilter(
        timestamp_param("from", from_),
        timestamp_param("to", to),
        int_param("eventId", eventId, maximum=MAX_EXTERNAL_ID),
    )


@router.get("/bookings", response_model=Page[Booking])
def list_bookings(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    filters: Annotated[BookingFilter, Depends(booking_filter)],
) -> Page[Booking]:
    """Get a paginated list of booked sessions in the website / funnel, by start time."""
    items, total = service.list_bookings(
        session,
        store.store_id,
        page,
        start_from=filters.start_from,
        start_to=filters.start_to,
        event_id=filters.event_id,
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/bookings",
    response_model=Booking,
    status_code=201,
    openapi_extra=json_body(
        BookingCreate,
        examples={"booking": {"summary": "A booking", "value": BOOKING_REQUEST_EXAMPLE}},
    ),
)
def create_booking(store: SecretKeyStore, body: JsonObject, session: WriteSession) -> Booking:
    """Record a booked session; its email creates or updates the contact, and the store's
    `booking_created` webhooks fire."""
    return service.create_booking(session, store.store_id, validate(BookingCreate, body))
