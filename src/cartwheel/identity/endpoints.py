"""Identity decisions (native API, secret key): merges, their undo, and conflicts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.identity import service
from cartwheel.identity.schemas import ConflictView, MergeView, conflict_view, merge_view
from cartwheel.kit.errors import ERROR_RESPONSES, native_router
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.session import ReadSession, WriteSession

router = native_router(prefix="/v1", tags=["identity"], responses=ERROR_RESPONSES)

ContactFilter = Annotated[
    int | None, Query(alias="contactId", description="Only decisions involving this contact.")
]


@router.get("/contact-merges", response_model=Page[MergeView])
def list_merges(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    contact_id: ContactFilter = None,
) -> Page[MergeView]:
    """Merges of two contacts into one, newest first."""
    rows, total = service.list_merges(session, store.store_id, page, contact_id)
    return Page(
        items=[merge_view(m) for m in rows], totalCount=total, limit=page.limit, skip=page.skip
    )


@router.post("/contact-merges/{merge_id}/undo", response_model=MergeView)
def undo_merge(merge_id: int, store: SecretKeyStore, session: WriteSession) -> MergeView:
    """Undo a merge: the merged contact, its identifiers and its events come back apart."""
    return merge_view(service.undo_merge(session, store.store_id, merge_id))


@router.get("/identity-conflicts", response_model=Page[ConflictView])
def list_conflicts(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    contact_id: ContactFilter = None,
) -> Page[ConflictView]:
    """Identifiers a request tied to one contact that belong to another known person
    (left where they were, not merged), newest first."""
    rows, total = service.list_conflicts(session, store.store_id, page, contact_id)
    return Page(
        items=[conflict_view(c) for c in rows], totalCount=total, limit=page.limit, skip=page.skip
    )
