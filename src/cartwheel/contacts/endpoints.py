"""Contacts in the store data API (secret key): list, find, create, read, update, delete,
and a contact's events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Response

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.contacts import service
from cartwheel.contacts.schemas import (
    CONTACT_REQUEST_EXAMPLE,
    Contact,
    ContactCreate,
    ContactUpdate,
)
from cartwheel.events.schemas import EventView
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.requests import JsonObject, text_param, timestamp_param, validate
from cartwheel.kit.session import ReadSession, WriteSession

router = native_router(prefix="/v1", tags=["contacts"], responses=ERROR_RESPONSES)

CONFLICT = {409: {"model": ErrorResponse, "description": "The email belongs to another contact"}}
REQUEST_EXAMPLES = {"contact": {"summary": "A contact", "value": CONTACT_REQUEST_EXAMPLE}}


# Filters are parsed by hand (like limit/skip) so a bad value is this API's 400, not a 422.
@dataclass(frozen=True, slots=True)
class CreatedRange:
    created_min: datetime | None
    created_max: datetime | None


def created_range(
    created_at_min: Annotated[
        str | None,
        Query(
            description="List only contacts created after this Unix timestamp (seconds, "
            "inclusive). Example: 1573251649.",
        ),
    ] = None,
    created_at_max: Annotated[
        str | None,
        Query(
            description="List only contacts created before this Unix timestamp (seconds, "
            "inclusive). Example: 1573251649.",
        ),
    ] = None,
) -> CreatedRange:
    return CreatedRange(
        timestamp_param("created_at_min", created_at_min),
        timestamp_param("created_at_max", created_at_max),
    )


@router.get("/contacts", response_model=Page[Contact] | Contact)
def list_contacts(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    created: Annotated[CreatedRange, Depends(created_range)],
    email: Annotated[
        str | None,
        Query(
            description="Find the one contact with this email (case-insensitive): the answer "
            "is that contact, not a page, or a 404. Example: john@doe.com."
        ),
    ] = None,
    phone: Annotated[
        str | None, Query(description="Only contacts with this phone (any format; E.164 match).")
    ] = None,
    externalId: Annotated[
        str | None, Query(description="Only contacts with this id of the store's own.")
    ] = None,
) -> Page[Contact] | Contact:
    """Get a paginated list of all contacts created in your website, optionally filtered by
    created date. With `email`, find the contact with that email address instead."""
    # The document's "find by email" is its own operation answering one contact; here it
    # shares the list's path, so `email` switches the answer from a page to that contact.
    email, phone = text_param("email", email), text_param("phone", phone)
    externalId = text_param("externalId", externalId)
    if email is not None:
        return service.find_by_email(
            session, store.store_id, email, phone=phone, external_id=externalId
        )
    items, total = service.list_contacts(
        session,
        store.store_id,
        page,
        created_min=created.created_min,
        created_max=created.created_max,
        phone=phone,
        external_id=externalId,
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/contacts",
    response_model=Contact,
    status_code=201,
    responses={200: {"model": Contact, "description": "An existing contact was updated"}}
    | CONFLICT,
    openapi_extra=json_body(ContactCreate, examples=REQUEST_EXAMPLES),
)
def create_contact(
    store: SecretKeyStore, body: JsonObject, session: WriteSession, response: Response
) -> Contact:
    """Create a contact. If a contact with the supplied email already exists, it is updated
    (201 when created, 200 when updated). Only supplied parameters are set."""
    contact, created = service.save_contact(session, store.store_id, validate(ContactCreate, body))
    # One operation, two outcomes: the status tells the caller which one happened.
    if not created:
        response.status_code = 200
    return contact


@router.get("/contacts/{contact_id}", response_model=Contact)
def get_contact(contact_id: int, store: SecretKeyStore, session: ReadSession) -> Contact:
    """Get a single contact by id (a merged contact's id shows the contact it became)."""
    return service.read_contact(session, store.store_id, contact_id)


@router.put(
    "/contacts/{contact_id}",
    response_model=Contact,
    responses=CONFLICT,
    openapi_extra=json_body(ContactUpdate, examples=REQUEST_EXAMPLES),
)
def update_contact(
    contact_id: int, store: SecretKeyStore, body: JsonObject, session: WriteSession
) -> Contact:
    """Update a single contact. Only non-empty fields are set."""
    return service.update_contact(
        session, store.store_id, contact_id, validate(ContactUpdate, body)
    )


@router.delete("/contacts/{contact_id}", status_code=204, response_class=Response)
def delete_contact(contact_id: int, store: SecretKeyStore, session: WriteSession) -> Response:
    """Delete a contact. Its email and phone no longer resolve to it: the next event or
    request with them creates a new contact."""
    service.delete_contact(session, store.store_id, contact_id)
    return Response(status_code=204)


@router.get("/contacts/{contact_id}/events", response_model=Page[EventView])
def list_contact_events(
    contact_id: int,
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[EventView]:
    """A contact's events, newest first (a merged contact's id shows the survivor's)."""
    items, total = service.contact_events(session, store.store_id, contact_id, page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)
