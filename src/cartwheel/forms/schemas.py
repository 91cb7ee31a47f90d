"""Form submissions as the store data API shows and accepts them."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from cartwheel import models
from cartwheel.contacts.schemas import Contact
from cartwheel.kit.requests import to_unix
from cartwheel.text import SINGLE_LINE

SUBMISSION_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "name": "Contact form",
    "received": 1573120479,
    "fields": [
        {"name": "email", "value": "john@doe.com"},
        {"name": "message", "value": "Do you ship to Canada?"},
    ],
    "contactId": 123,
}
SUBMIT_EXAMPLE: dict[str, Any] = {
    "fields": [
        {"name": "name", "value": "John Doe"},
        {"name": "email", "value": "john@doe.com"},
        {"name": "message", "value": "Do you ship to Canada?"},
    ]
}


class FormField(BaseModel):
    """One submitted field."""

    name: str = Field(min_length=1, max_length=200, description="Field name.")
    value: str = Field(max_length=10_000, description="Field value.")


class FormFieldInput(FormField):
    """One submitted field: its name is single-line (stored submissions are shown as they
    are)."""

    name: Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE] = Field(
        description="Field name."
    )


class FormSubmission(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SUBMISSION_EXAMPLE]})

    id: int = Field(description="Unique identifier of the submission.")
    name: str = Field(description="The form's name.")
    received: int = Field(description="When it was received, in Unix seconds.")
    fields: list[FormField] = Field(description="The submitted fields, in order.")
    contactId: int | None = Field(
        description="The contact it created or updated (by its `email` field); null if it "
        "had none or the contact was deleted."
    )


class FormSubmissionCreate(BaseModel):
    """A site form's submission. A field named `email` creates or updates that contact;
    `name`, `firstName`, `lastName`, `phone` and `companyName` (any case, spaces, `_` or
    `-`) are set on it too."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUBMIT_EXAMPLE]})

    fields: list[FormFieldInput] = Field(
        min_length=1, max_length=200, description="The submitted fields (1 to 200), in order."
    )


class WebsiteRef(BaseModel):
    """Information about the website where the event originated."""

    id: int = Field(description="The store's id.")
    # Cartwheel hosts no site: only the store and the page's host are known.
    subdomain: str | None = Field(default=None, description="Not known to Cartwheel: null.")
    systemDomain: str | None = Field(default=None, description="Not known to Cartwheel: null.")
    domain: str | None = Field(description="Host of the page the form was submitted from.")


class FieldValue(BaseModel):
    field: str = Field(description="Field name.")
    value: str = Field(description="Field value.")


class FormSubmittedPayload(FormSubmission):
    """The ``form_submitted`` outbox payload, which is also the webhook body: the
    submission in its API shape plus the document's webhook fields (`website`, `contact`,
    `formName`, `formValues`)."""

    website: WebsiteRef = Field(description="The website the form is on.")
    contact: Contact | None = Field(description="The contact, in its API shape.")
    formName: str = Field(description="The form's name.")
    formValues: list[FieldValue] = Field(description="Field/value pairs of all fields.")


def submitted_payload(
    submission: FormSubmission, store_id: int, origin: str | None, contact: Contact | None
) -> FormSubmittedPayload:
    return FormSubmittedPayload(
        **submission.model_dump(),
        website=WebsiteRef(id=store_id, domain=urlsplit(origin).hostname if origin else None),
        contact=contact,
        formName=submission.name,
        formValues=[FieldValue(field=f.name, value=f.value) for f in submission.fields],
    )


def submission_view(row: models.FormSubmission) -> FormSubmission:
    return FormSubmission(
        id=row.id,
        name=row.form_name,
        received=to_unix(row.received_at),
        fields=[FormField(**f) for f in row.fields or []],
        contactId=row.contact_id,
    )
