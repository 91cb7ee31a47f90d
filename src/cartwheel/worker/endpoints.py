"""Queue failures (store data API, secret key): handlers that failed on an event or an
outbox message, waiting for a retry or set aside as failed, and their replay."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.session import ReadSession, WriteSession
from cartwheel.worker import service
from cartwheel.worker.schemas import QueueFailureView, ReplayResult, failure_view

router = native_router(prefix="/v1/queue-failures", tags=["queues"], responses=ERROR_RESPONSES)

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The failure is still being retried"}
}
QueueFilter = Annotated[
    str | None, Query(description="Only this queue: `events` (the event log) or `outbox`.")
]


@router.get("", response_model=Page[QueueFailureView])
def list_failures(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    queue: QueueFilter = None,
    status: Annotated[
        str | None, Query(description="Only this status: `pending` (retrying) or `failed`.")
    ] = None,
) -> Page[QueueFailureView]:
    """Handlers that failed on a row of the store's queues, newest first."""
    rows, total = service.list_failures(session, store.store_id, page, queue, status)
    items = [failure_view(r) for r in rows]
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.get("/{failure_id}", response_model=QueueFailureView)
def get_failure(failure_id: str, store: SecretKeyStore, session: ReadSession) -> QueueFailureView:
    """One queue failure."""
    return failure_view(service.get_failure(session, store.store_id, failure_id))


@router.post(
    "/{failure_id}/replay", status_code=202, response_model=QueueFailureView, responses=CONFLICT
)
def replay_failure(
    failure_id: str, store: SecretKeyStore, session: WriteSession
) -> QueueFailureView:
    """Try a failed handler on its row again, with a fresh set of tries."""
    return failure_view(service.replay_failure(session, store.store_id, failure_id))


@router.post("/replay", status_code=202, response_model=ReplayResult)
def replay_failures(
    store: SecretKeyStore, session: WriteSession, queue: QueueFilter = None
) -> ReplayResult:
    """Try every failed handler of the store again (of one queue, if given)."""
    return ReplayResult(replayed=service.replay_failures(session, store.store_id, queue))
