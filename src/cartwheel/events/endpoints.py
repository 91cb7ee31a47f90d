"""The store's event log in the store data API (secret key, scoped to its store)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.events import service
from cartwheel.events.queries import EventFilter
from cartwheel.events.schemas import EventView
from cartwheel.kit.errors import ERROR_RESPONSES, native_router
from cartwheel.kit.pagination import CursorPage, limit_param
from cartwheel.kit.requests import int_param, text_param, timestamp_param
from cartwheel.kit.session import ReadSession

router = native_router(prefix="/v1", tags=["events"], responses=ERROR_RESPONSES)


# Every parameter arrives as text and is parsed by hand: a bad one is this API's 400.
@router.get("/events", response_model=CursorPage[EventView])
def list_events(
    store: SecretKeyStore,
    session: ReadSession,
    limit: Annotated[
        str | None,
        Query(
            description=f"Events per page, 1 to {service.MAX_LIMIT} "
            f"(default {service.DEFAULT_LIMIT})."
        ),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(
            description="The `nextCursor` of the previous page (opaque); absent for the "
            "first page. Keep the same filters from page to page."
        ),
    ] = None,
    name: Annotated[str | None, Query(description="Only events with this name (exact).")] = None,
    category: Annotated[
        str | None, Query(description="Only lifecycle events of this category (`order`…).")
    ] = None,
    action: Annotated[
        str | None, Query(description="Only lifecycle events with this action (`completed`…).")
    ] = None,
    contact_id: Annotated[
        str | None,
        Query(
            alias="contactId",
            description="Only this contact's events (a merged contact's events are the "
            "survivor's).",
        ),
    ] = None,
    occurred_after: Annotated[
        str | None,
        Query(
            description="Only events that occurred at or after this Unix timestamp (seconds, "
            "inclusive).",
            examples=["1573251649"],
        ),
    ] = None,
    occurred_before: Annotated[
        str | None,
        Query(
            description="Only events that occurred before this Unix timestamp (seconds, "
            "exclusive).",
            examples=["1573338049"],
        ),
    ] = None,
) -> CursorPage[EventView]:
    """The store's event log, newest first (by when each event occurred, then as received),
    in pages linked by a cursor. Filters combine; a page ends with `nextCursor`, null on the
    last page."""
    where = EventFilter(
        name=text_param("name", name),
        category=text_param("category", category),
        action=text_param("action", action),
        contact_id=int_param("contactId", contact_id),
        occurred_after=timestamp_param("occurred_after", occurred_after),
        occurred_before=timestamp_param("occurred_before", occurred_before),
    )
    size = limit_param(limit, service.DEFAULT_LIMIT, service.MAX_LIMIT)
    return service.list_events(session, store.store_id, where, text_param("cursor", cursor), size)
