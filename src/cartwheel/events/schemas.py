"""The event as every API shows it: the items of ``GET /v1/events`` and
``GET /v1/contacts/{id}/events``, and the body of the ``event_tracked`` webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cartwheel import models
from cartwheel.ingest.properties import clip_depth


class EventView(BaseModel):
    """One stored event."""

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
    entity: dict[str, Any] | None = Field(
        default=None,
        description="For lifecycle events, the record they describe (order, product, cart…) "
        "in Cartwheel's canonical shape.",
    )
    value: float | None = Field(description="Monetary value of the event.")
    currency: str | None = Field(description="ISO 4217 currency of `value`.")


def event_view(event: models.Event) -> EventView:
    return EventView(
        id=str(event.id),
        contactId=event.contact_id,
        name=event.name,
        category=event.category,
        action=event.action,
        occurredAt=event.occurred_at,
        receivedAt=event.received_at,
        source=event.source,
        # Values stored before the nesting limit may be deeper than a response can be.
        properties=clip_depth(event.properties or {}),
        propertyTypes=event.property_types or {},
        extra=clip_depth(event.extra or {}),
        entity=clip_depth(event.entity),
        value=event.value,
        currency=event.currency,
    )
