"""The contact and event views of the native API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cartwheel.models import Contact, Event


class ContactView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": []})

    id: int = Field(description="Cartwheel's contact id.")
    uuid: str = Field(description="Stable public id; event APIs accept it as `uuid`.")
    email: str | None = Field(description="Primary email (lower-cased).")
    phone: str | None = Field(description="Primary phone, E.164.")
    name: str | None = Field(description="Full name.")
    firstName: str | None = Field(description="First name.")
    lastName: str | None = Field(description="Last name.")
    externalIds: list[str] = Field(description="The store's own ids for this person.")
    customFields: dict[str, Any] = Field(description="Custom profile fields.")
    source: str | None = Field(description="Where the contact first came from.")
    createdOn: datetime = Field(description="When the contact was created.")


class EventView(BaseModel):
    id: str = Field(description="Event id (time-ordered UUID).")
    contactId: int | None = Field(description="The contact the event belongs to.")
    name: str = Field(description="Event name.")
    category: str | None = Field(description="Lifecycle category (`order`, `cart`…), if any.")
    action: str | None = Field(description="Lifecycle action (`created`, `completed`…), if any.")
    occurredAt: datetime = Field(description="When it happened, as the sender said.")
    receivedAt: datetime = Field(description="When Cartwheel stored it.")
    source: str | None = Field(description="The platform that sent it.")
    properties: dict[str, Any] = Field(description="Segmentable top-level properties.")
    propertyTypes: dict[str, str] = Field(description="Type of each property (date, number…).")
    extra: dict[str, Any] = Field(description="Non-segmentable data, stored whole.")
    value: float | None = Field(description="Monetary value of the event.")
    currency: str | None = Field(description="ISO 4217 currency of `value`.")


def contact_view(contact: Contact, external_ids: list[str]) -> ContactView:
    return ContactView(
        id=contact.id,
        uuid=str(contact.uuid),
        email=contact.email,
        phone=contact.phone,
        name=contact.name or _join(contact.first_name, contact.last_name),
        firstName=contact.first_name,
        lastName=contact.last_name,
        externalIds=external_ids,
        customFields=contact.custom_fields or {},
        source=contact.source,
        createdOn=contact.created_at,
    )


def event_view(event: Event) -> EventView:
    return EventView(
        id=str(event.id),
        contactId=event.contact_id,
        name=event.name,
        category=event.category,
        action=event.action,
        occurredAt=event.occurred_at,
        receivedAt=event.received_at,
        source=event.source,
        properties=event.properties or {},
        propertyTypes=event.property_types or {},
        extra=event.extra or {},
        value=event.value,
        currency=event.currency,
    )


def _join(first: str | None, last: str | None) -> str | None:
    joined = " ".join(part for part in (first, last) if part)
    return joined or None
