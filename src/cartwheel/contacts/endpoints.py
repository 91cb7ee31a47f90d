"""Reading contacts and their events (native API, secret key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.contacts import service
from cartwheel.contacts.schemas import ContactView, EventView
from cartwheel.kit.errors import ERROR_RESPONSES, native_router
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.session import ReadSession

router = native_router(prefix="/v1", tags=["contacts"], responses=ERROR_RESPONSES)


@router.get("/contacts", response_model=Page[ContactView])
def list_contacts(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    email: Annotated[str | None, Query(description="Find by email (case-insensitive).")] = None,
    phone: Annotated[
        str | None, Query(description="Find by phone (any format; E.164 match).")
    ] = None,
    externalId: Annotated[str | None, Query(description="Find by the store's own id.")] = None,
) -> Page[ContactView]:
    """List the store's contacts, or find them by email, phone or external id."""
    items, total = service.find_contacts(
        session, store.store_id, page, email=email, phone=phone, external_id=externalId
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


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
