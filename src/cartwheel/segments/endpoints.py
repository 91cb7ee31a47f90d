"""Segments (store data API, secret key): definitions, members, preview, explain, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.exceptions import NotFound
from cartwheel.kit.body import read_json
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.ids import MAX_ID
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.session import ReadSession, WriteSession
from cartwheel.segments import schemas, service
from cartwheel.segments.definition import Node
from cartwheel.segments.schemas import (
    ContactSegments,
    Explain,
    History,
    Preview,
    Segment,
    SegmentInput,
    SegmentMember,
)

router = native_router(prefix="/v1/segments", tags=["segments"], responses=ERROR_RESPONSES)
contact_router = native_router(prefix="/v1/contacts", tags=["segments"], responses=ERROR_RESPONSES)

MAX_BODY_BYTES = 64 * 1024
CONFLICT = {409: {"model": ErrorResponse, "description": "Another segment refers to this one"}}
Pages = Annotated[PageParams, Depends(page_params)]


def _id(raw: str, what: str) -> int:
    """A path id: ASCII digits naming a possible row, else a 404 (never a query)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID:
        raise NotFound(f"{what} not found.")
    return int(raw)


async def create_input(request: Request, _: SecretKeyStore) -> SegmentInput:
    return schemas.parse_body(await read_json(request, MAX_BODY_BYTES), creating=True)


async def update_input(request: Request, _: SecretKeyStore) -> SegmentInput:
    return schemas.parse_body(await read_json(request, MAX_BODY_BYTES), creating=False)


async def preview_input(request: Request, _: SecretKeyStore) -> Node:
    return schemas.parse_preview(await read_json(request, MAX_BODY_BYTES))


_EXAMPLES = {
    "simple": {"summary": "Recent buyers in the US", "value": schemas.SIMPLE_EXAMPLE},
    "issue": {
        "summary": "Repeat buyers, North America (every kind of condition; list 12 and "
        "segment 7 must exist)",
        "value": schemas.EXAMPLE,
    },
}


@router.post(
    "",
    status_code=201,
    response_model=Segment,
    openapi_extra=json_body(schemas.SegmentCreate, examples=_EXAMPLES),
)
def create_segment(
    store: SecretKeyStore,
    data: Annotated[SegmentInput, Depends(create_input)],
    session: WriteSession,
) -> Segment:
    """Create a segment. It is built over the existing history within this request, so it
    answers `live` with its size; the worker keeps it up to date from then on."""
    return service.create_segment(session, store.store_id, data)


@router.get("", response_model=Page[Segment])
def list_segments(store: SecretKeyStore, session: ReadSession, page: Pages) -> Page[Segment]:
    """The store's segments, oldest first, each with its size and state."""
    items, total = service.list_segments(session, store.store_id, page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/preview",
    response_model=Preview,
    openapi_extra=json_body(
        schemas.PreviewInput,
        examples={
            "simple": {
                "summary": "How many bought in the last 30 days?",
                "value": {"condition": schemas.SIMPLE_EXAMPLE["condition"]},
            }
        },
    ),
)
def preview_segment(
    store: SecretKeyStore, node: Annotated[Node, Depends(preview_input)], session: ReadSession
) -> Preview:
    """Count the contacts a condition matches now, with a sample; nothing is saved."""
    return service.preview(session, store.store_id, node)


@router.get("/{segment_id}", response_model=Segment)
def get_segment(segment_id: str, store: SecretKeyStore, session: ReadSession) -> Segment:
    """One segment, with its size."""
    return service.read_segment(session, store.store_id, _id(segment_id, "Segment"))


@router.put(
    "/{segment_id}",
    response_model=Segment,
    openapi_extra=json_body(
        schemas.SegmentUpdate,
        examples={"rename": {"summary": "Rename", "value": {"name": "Repeat buyers"}}},
    ),
)
def update_segment(
    segment_id: str,
    store: SecretKeyStore,
    data: Annotated[SegmentInput, Depends(update_input)],
    session: WriteSession,
) -> Segment:
    """Change a segment: only the supplied fields change. A new condition makes a new
    version and rebuilds the membership in this request (readers see the old membership
    until it commits); the contacts that enter or leave are announced."""
    return service.update_segment(session, store.store_id, _id(segment_id, "Segment"), data)


@router.delete("/{segment_id}", status_code=204, response_class=Response, responses=CONFLICT)
def delete_segment(segment_id: str, store: SecretKeyStore, session: WriteSession) -> Response:
    """Delete a segment and its memberships (refused while another segment uses it)."""
    service.delete_segment(session, store.store_id, _id(segment_id, "Segment"))
    return Response(status_code=204)


@router.get("/{segment_id}/contacts", response_model=Page[SegmentMember])
def list_members(
    segment_id: str, store: SecretKeyStore, session: ReadSession, page: Pages
) -> Page[SegmentMember]:
    """The segment's contacts, latest entries first, with when each entered."""
    items, total = service.list_members(session, store.store_id, _id(segment_id, "Segment"), page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.get("/{segment_id}/contacts/{contact_id}/explain", response_model=Explain)
def explain(
    segment_id: str, contact_id: str, store: SecretKeyStore, session: ReadSession
) -> Explain:
    """Why a contact is (or is not) in the segment: every node of the condition with what
    it saw and whether it holds now, and when the answer is next re-checked."""
    return service.explain(
        session, store.store_id, _id(segment_id, "Segment"), _id(contact_id, "Contact")
    )


@router.get("/{segment_id}/history", response_model=History)
def history(segment_id: str, store: SecretKeyStore, session: ReadSession) -> History:
    """Size, entries and exits per UTC day, for the last 90 days with changes."""
    return service.history(session, store.store_id, _id(segment_id, "Segment"))


@contact_router.get("/{contact_id}/segments", response_model=ContactSegments)
def contact_segments(
    contact_id: str, store: SecretKeyStore, session: ReadSession
) -> ContactSegments:
    """The segments a contact is in, with when it entered each."""
    items = service.contact_segments(session, store.store_id, _id(contact_id, "Contact"))
    return ContactSegments(items=items)
