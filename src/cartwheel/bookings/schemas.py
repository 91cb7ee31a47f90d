"""Bookings as the store data API shows and accepts them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from cartwheel import models
from cartwheel.identity.addresses import Email
from cartwheel.kit.requests import MAX_EXTERNAL_ID, Timestamp, to_unix
from cartwheel.text import SINGLE_LINE

BOOKING_EXAMPLE: dict[str, Any] = {
    "id": 206,
    "eventId": 98146,
    "contactId": 41,
    "name": "Jane Doe",
    "email": "jane@doe.com",
    "start": 1587936600,
    "end": 1587938400,
    "eventData": {"name": "My event", "location": "Skype"},
    "operator": {"id": 51215, "name": "John Doe", "email": "john@doe.com"},
    "service": {"id": 0, "name": "string"},
    "formAnswers": [{"name": "string", "value": "string"}],
}
BOOKING_REQUEST_EXAMPLE: dict[str, Any] = {
    key: value for key, value in BOOKING_EXAMPLE.items() if key not in ("id", "contactId")
}


class EventDetails(BaseModel):
    """The booked event."""

    name: str | None = Field(default=None, max_length=300, description="Event name.")
    location: str | None = Field(default=None, max_length=500, description="Where it happens.")


class Operator(BaseModel):
    """Who runs the session."""

    id: int | None = Field(default=None, ge=0, le=MAX_EXTERNAL_ID, description="Operator id.")
    name: str | None = Field(default=None, max_length=300, description="Operator name.")
    email: str | None = Field(default=None, max_length=320, description="Operator email.")


class Service(BaseModel):
    """The booked service."""

    id: int | None = Field(default=None, ge=0, le=MAX_EXTERNAL_ID, description="Service id.")
    name: str | None = Field(default=None, max_length=300, description="Service name.")


class NameValue(BaseModel):
    """A form question the attendee answered."""

    name: str = Field(min_length=1, max_length=500, description="The question.")
    value: str = Field(max_length=10_000, description="The answer.")


# Input-only versions of the nested objects: names are single-line when set; stored
# bookings are shown as they are.
class EventDetailsInput(EventDetails):
    name: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None, description="Event name."
    )
    location: Annotated[str, Field(max_length=500), SINGLE_LINE] | None = Field(
        default=None, description="Where it happens."
    )


class OperatorInput(Operator):
    name: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None, description="Operator name."
    )
    email: Annotated[str, Field(max_length=320), SINGLE_LINE] | None = Field(
        default=None, description="Operator email."
    )


class ServiceInput(Service):
    name: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None, description="Service name."
    )


class NameValueInput(NameValue):
    name: Annotated[str, Field(min_length=1, max_length=500), SINGLE_LINE] = Field(
        description="The question."
    )


# Operator and service ids are the booking system's, not Cartwheel rows: any 64-bit id.
class Booking(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [BOOKING_EXAMPLE]})

    id: int = Field(description="Unique booking (session) id.")
    eventId: int = Field(description="Unique event id.")
    contactId: int | None = Field(description="Unique contact id (null if it was deleted).")
    name: str | None = Field(description="Contact name.")
    email: str = Field(description="Contact email.")
    start: int = Field(description="Booking start, in Unix seconds.")
    end: int = Field(description="Booking end, in Unix seconds.")
    eventData: EventDetails | None = Field(description="The booked event.")
    operator: Operator | None = Field(description="Who runs the session.")
    service: Service | None = Field(description="The booked service.")
    formAnswers: list[NameValue] = Field(description="Form questions the attendee answered.")


class BookingCreate(BaseModel):
    """A booked session. Its email creates or updates that contact (with `name`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [BOOKING_REQUEST_EXAMPLE]})

    eventId: int = Field(
        ge=1, le=MAX_EXTERNAL_ID, description="The store's id of the booked event."
    )
    name: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None, description="Attendee name."
    )
    email: Email = Field(description="Attendee email.")
    start: Timestamp = Field(description="Session start, in Unix seconds.")
    end: Timestamp = Field(description="Session end, in Unix seconds (not before `start`).")
    eventData: EventDetailsInput | None = Field(default=None, description="The booked event.")
    operator: OperatorInput | None = Field(default=None, description="Who runs the session.")
    service: ServiceInput | None = Field(default=None, description="The booked service.")
    formAnswers: list[NameValueInput] | None = Field(
        default=None, max_length=100, description="Form questions the attendee answered."
    )


def booking_view(row: models.Booking) -> Booking:
    return Booking(
        id=row.id,
        eventId=row.event_id,
        contactId=row.contact_id,
        name=row.name,
        email=row.email,
        start=to_unix(row.start_at),
        end=to_unix(row.end_at),
        eventData=EventDetails(**row.event_data) if row.event_data else None,
        operator=Operator(**row.operator) if row.operator else None,
        service=Service(**row.service) if row.service else None,
        formAnswers=[NameValue(**a) for a in row.form_answers or []],
    )
