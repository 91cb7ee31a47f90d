"""Subscriber lists as the store data API shows and accepts them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from cartwheel import models
from cartwheel.kit.requests import Id, to_unix
from cartwheel.text import SINGLE_LINE

LIST_EXAMPLE: dict[str, Any] = {
    "id": 87647751,
    "name": "My list",
    "created": 1613384738,
    "subscribers": 25,
    "opens": 0.85,
    "clicks": 0.41,
}
LIST_REQUEST_EXAMPLE: dict[str, Any] = {"name": "New List"}


class SubscriberList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [LIST_EXAMPLE]})

    id: int = Field(description="Unique identifier.")
    name: str = Field(description="List name.")
    created: int = Field(description="When the list was created, in Unix seconds.")
    subscribers: int = Field(description="Number of contacts on the list.")
    opens: float = Field(
        description="Open rate of the campaigns sent to the list (0 to 1): messages opened "
        "at least once over messages delivered; 0 before any campaign."
    )
    clicks: float = Field(
        description="Click rate of the campaigns sent to the list (0 to 1): messages with a "
        "click over messages delivered; 0 before any campaign."
    )


class SubscriberListCreate(BaseModel):
    """Create a subscriber list for email marketing purposes."""

    model_config = ConfigDict(json_schema_extra={"examples": [LIST_REQUEST_EXAMPLE]})

    name: Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE] = Field(
        description="List name."
    )


class SubscriberListUpdate(SubscriberListCreate):
    """Rename a subscriber list."""


class SubscriberListContacts(BaseModel):
    """Contacts to put on a list (contacts already on it are left as they are)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"contactIds": [123, 124]}]})

    contactIds: list[Id] = Field(
        min_length=1, max_length=100, description="Ids of the contacts to add (1 to 100)."
    )


def list_view(
    row: models.SubscriberList, subscribers: int, rates: tuple[float, float] = (0.0, 0.0)
) -> SubscriberList:
    return SubscriberList(
        id=row.id,
        name=row.name,
        created=to_unix(row.created_at),
        subscribers=subscribers,
        opens=round(rates[0], 4),
        clicks=round(rates[1], 4),
    )
