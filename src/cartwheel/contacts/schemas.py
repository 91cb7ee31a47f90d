"""The contact as the store data API shows it (the document's fields plus Cartwheel's own:
one record, two views) and the bodies that create and update it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from cartwheel import models
from cartwheel.identity.addresses import Email, Phone
from cartwheel.ingest.properties import clip_depth
from cartwheel.kit.requests import Id, to_unix
from cartwheel.text import SINGLE_LINE

CONTACT_EXAMPLE: dict[str, Any] = {
    "id": 123,
    "name": "John Doe",
    "email": "john@doe.com",
    "phone": "+123456789",
    "note": "string",
    "address": "string",
    "city": "string",
    "state": "string",
    "zip": "string",
    "country": "string",
    "companyName": "string",
    "createdOn": 1573240303,
    "properties": [{"name": "lead_status", "value": "contacted"}],
    "tags": ["tag1", "tag2"],
    "memberId": 487,
    "subscribed": True,
    "subscriberLists": [87647751],
    "uuid": "2f1c7d1e-5b0a-4a8e-9f3b-0c6d1e2f3a4b",
    "firstName": None,
    "lastName": None,
    "externalIds": [],
    "customFields": {"lead_status": "contacted"},
    "source": "api",
}

#: The document's create/update request example.
CONTACT_REQUEST_EXAMPLE: dict[str, Any] = {
    "name": "John Doe",
    "email": "john@doe.com",
    "phone": "+123456789",
    "note": "string",
    "address": "string",
    "city": "string",
    "state": "string",
    "zip": "string",
    "country": "string",
    "companyName": "string",
    "properties": [{"name": "lead_status", "value": "contacted"}],
    "tags": ["string"],
    "subscribed": True,
    "subscriberLists": [0],
}

Tag = Annotated[str, Field(min_length=1, max_length=100), SINGLE_LINE]


class ContactProperty(BaseModel):
    """A custom property of the contact (Cartwheel's `customFields`, as a name/value list)."""

    name: str = Field(description="Property name.")
    value: Any = Field(default=None, description="Property value (usually a string).")


class ContactPropertyInput(BaseModel):
    """A custom property to set: a null value removes it."""

    # Separate from the output shape: events may have stored names this input refuses.
    name: Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE] = Field(
        description="Property name."
    )
    value: Any = Field(default=None, description="Property value; null removes the property.")


class Contact(BaseModel):
    """A contact: the document's fields, then Cartwheel's own (`uuid`, `firstName`, …)."""

    model_config = ConfigDict(json_schema_extra={"examples": [CONTACT_EXAMPLE]})

    id: int = Field(description="Unique identifier.")
    name: str | None = Field(description="Contact name.")
    email: str | None = Field(description="Email address of the contact (lower-cased).")
    phone: str | None = Field(description="Contact phone (E.164 when it is a valid number).")
    note: str | None = Field(description="Private note.")
    address: str | None = Field(description="Street address.")
    city: str | None = Field(description="City.")
    state: str | None = Field(description="State or region.")
    zip: str | None = Field(description="Postal code.")
    country: str | None = Field(description="Country.")
    companyName: str | None = Field(description="Company name.")
    createdOn: int = Field(description="Timestamp in Unix seconds since epoch.")
    properties: list[ContactProperty] = Field(
        description="Custom properties (the same data as `customFields`)."
    )
    tags: list[str] = Field(description="List of tags assigned to the contact.")
    memberId: int | None = Field(description="Member id if assigned to contact, else null.")
    subscribed: bool = Field(description="Whether the contact is a subscriber (email marketing).")
    subscriberLists: list[int] = Field(description="Ids of the subscriber lists it is on.")
    # Cartwheel's own fields follow; clients of the document ignore fields they don't know.
    uuid: str = Field(description="Stable public id; event APIs accept it as `uuid`.")
    firstName: str | None = Field(description="First name.")
    lastName: str | None = Field(description="Last name.")
    externalIds: list[str] = Field(description="The store's own ids for this person.")
    customFields: dict[str, Any] = Field(description="Custom profile fields (see `properties`).")
    source: str | None = Field(description="Where the contact first came from.")


class ContactCreate(BaseModel):
    """Create a contact; an existing contact with this email is updated instead, and then
    only the supplied fields are set (an empty string or null clears a field)."""

    model_config = ConfigDict(json_schema_extra={"examples": [CONTACT_REQUEST_EXAMPLE]})

    name: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None, description="Contact name."
    )
    email: Email = Field(description="Email address; identifies the contact.")
    phone: Phone | None = Field(
        default=None,
        max_length=32,
        description="Phone, stored as E.164 (US numbers may omit +1); a value that is not a "
        "possible phone number is refused.",
    )
    note: str | None = Field(default=None, max_length=10_000, description="Private note.")
    address: str | None = Field(default=None, max_length=500, description="Street address.")
    city: Annotated[str, Field(max_length=200), SINGLE_LINE] | None = Field(
        default=None, description="City."
    )
    state: Annotated[str, Field(max_length=200), SINGLE_LINE] | None = Field(
        default=None, description="State or region."
    )
    zip: Annotated[str, Field(max_length=40), SINGLE_LINE] | None = Field(
        default=None, description="Postal code."
    )
    country: Annotated[str, Field(max_length=200), SINGLE_LINE] | None = Field(
        default=None, description="Country."
    )
    companyName: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None, description="Company name."
    )
    properties: list[ContactPropertyInput] | None = Field(
        default=None,
        max_length=200,
        description="Custom properties, merged by name (a null value removes one).",
    )
    tags: list[Tag] | None = Field(
        default=None, max_length=100, description="Tags; replace the contact's tags."
    )
    subscribed: bool | None = Field(default=None, description="Whether it is a subscriber.")
    subscriberLists: list[Id] | None = Field(
        default=None,
        max_length=100,
        description="Ids of the subscriber lists the contact is on (replaces its lists). "
        "0 means no list (so `[0]` takes it off every list); any other id must be a list "
        "of this store.",
    )
    firstName: Annotated[str, Field(max_length=200), SINGLE_LINE] | None = Field(
        default=None, description="First name."
    )
    lastName: Annotated[str, Field(max_length=200), SINGLE_LINE] | None = Field(
        default=None, description="Last name."
    )


class ContactUpdate(ContactCreate):
    """Update a contact: only non-empty fields are set (empty strings, nulls and empty
    arrays leave the stored value alone). Changing `email` re-keys the contact."""


def contact_view(
    contact: models.Contact,
    *,
    external_ids: list[str],
    member_id: int | None,
    list_ids: list[int],
) -> Contact:
    custom = clip_depth(contact.custom_fields or {})
    return Contact(
        id=contact.id,
        name=contact.name or _join(contact.first_name, contact.last_name),
        email=contact.email,
        phone=contact.phone,
        note=contact.note,
        address=contact.address1,
        city=contact.city,
        state=contact.state,
        zip=contact.zip,
        country=contact.country,
        companyName=contact.company_name,
        createdOn=to_unix(contact.created_at),
        # `properties` and `customFields` are one store (custom_fields) in two shapes.
        properties=[ContactProperty(name=k, value=v) for k, v in custom.items()],
        tags=list(contact.tags or []),
        memberId=member_id,
        subscribed=bool(contact.subscribed),
        subscriberLists=list_ids,
        uuid=str(contact.uuid),
        firstName=contact.first_name,
        lastName=contact.last_name,
        externalIds=external_ids,
        customFields=custom,
        source=contact.source,
    )


def _join(first: str | None, last: str | None) -> str | None:
    joined = " ".join(part for part in (first, last) if part)
    return joined or None
