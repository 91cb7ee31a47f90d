"""Subscriber lists in the store data API (secret key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.contacts.schemas import Contact
from cartwheel.kit.errors import ERROR_RESPONSES, native_router
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.requests import JsonObject, validate
from cartwheel.kit.session import ReadSession, WriteSession
from cartwheel.lists import service
from cartwheel.lists.schemas import (
    LIST_REQUEST_EXAMPLE,
    SubscriberList,
    SubscriberListContacts,
    SubscriberListCreate,
    SubscriberListUpdate,
)

router = native_router(prefix="/v1", tags=["subscriber lists"], responses=ERROR_RESPONSES)

LIST_EXAMPLES = {"list": {"summary": "A list", "value": LIST_REQUEST_EXAMPLE}}
Pagination = Annotated[PageParams, Depends(page_params)]


@router.get("/subscriber-lists", response_model=Page[SubscriberList])
def list_lists(
    store: SecretKeyStore, session: ReadSession, page: Pagination
) -> Page[SubscriberList]:
    """Get a paginated list of the subscriber lists, with their subscriber counts."""
    items, total = service.list_lists(session, store.store_id, page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/subscriber-lists",
    response_model=SubscriberList,
    status_code=201,
    openapi_extra=json_body(SubscriberListCreate, examples=LIST_EXAMPLES),
)
def create_list(store: SecretKeyStore, body: JsonObject, session: WriteSession) -> SubscriberList:
    """Create a subscriber list for email marketing purposes."""
    return service.create_list(session, store.store_id, validate(SubscriberListCreate, body))


@router.get("/subscriber-lists/{list_id}", response_model=SubscriberList)
def get_list(list_id: int, store: SecretKeyStore, session: ReadSession) -> SubscriberList:
    """Get a single subscriber list."""
    return service.read_list(session, store.store_id, list_id)


@router.put(
    "/subscriber-lists/{list_id}",
    response_model=SubscriberList,
    openapi_extra=json_body(SubscriberListUpdate, examples=LIST_EXAMPLES),
)
def update_list(
    list_id: int, store: SecretKeyStore, body: JsonObject, session: WriteSession
) -> SubscriberList:
    """Update a subscriber list (its name)."""
    data = validate(SubscriberListUpdate, body)
    return service.update_list(session, store.store_id, list_id, data)


@router.delete("/subscriber-lists/{list_id}", status_code=204, response_class=Response)
def delete_list(list_id: int, store: SecretKeyStore, session: WriteSession) -> Response:
    """Delete a subscriber list. Its contacts are kept; they are only taken off the list."""
    service.delete_list(session, store.store_id, list_id)
    return Response(status_code=204)


@router.get("/subscriber-lists/{list_id}/contacts", response_model=Page[Contact])
def list_contacts(
    list_id: int, store: SecretKeyStore, session: ReadSession, page: Pagination
) -> Page[Contact]:
    """Get a paginated list of the contacts on a subscriber list."""
    items, total = service.list_contacts(session, store.store_id, list_id, page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/subscriber-lists/{list_id}/contacts",
    response_model=SubscriberList,
    openapi_extra=json_body(
        SubscriberListContacts,
        examples={"contacts": {"summary": "Two contacts", "value": {"contactIds": [123, 124]}}},
    ),
)
# Answers the list rather than 204 so the caller sees the new subscriber count.
def add_contacts(
    list_id: int, store: SecretKeyStore, body: JsonObject, session: WriteSession
) -> SubscriberList:
    """Put contacts on a subscriber list (those already on it stay). Answers the list."""
    data = validate(SubscriberListContacts, body)
    return service.add_contacts(session, store.store_id, list_id, data)


@router.delete(
    "/subscriber-lists/{list_id}/contacts/{contact_id}", status_code=204, response_class=Response
)
def remove_contact(
    list_id: int, contact_id: int, store: SecretKeyStore, session: WriteSession
) -> Response:
    """Take a contact off a subscriber list."""
    service.remove_contact(session, store.store_id, list_id, contact_id)
    return Response(status_code=204)
