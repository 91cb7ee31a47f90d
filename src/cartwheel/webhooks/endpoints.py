"""Webhook subscriptions and their deliveries (store data API, secret key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.kit.body import read_json
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.session import ReadSession, WriteSession
from cartwheel.models.base import utcnow
from cartwheel.runtime import Runtime, get_runtime
from cartwheel.webhooks import schemas, service
from cartwheel.webhooks.schemas import (
    Delivery,
    RangeInput,
    ReplayResult,
    Webhook,
    WebhookCreated,
    WebhookInput,
)

router = native_router(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)

MAX_BODY_BYTES = 64 * 1024
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The delivery is still pending"}
}


# The bodies are read and checked in dependencies that run before the request's
# transaction opens: resolving the target's host (DNS) never holds a database lock.


async def create_input(request: Request, runtime: RuntimeDep, _: SecretKeyStore) -> WebhookInput:
    data = schemas.parse_create(await read_json(request, MAX_BODY_BYTES))
    assert data.target is not None
    await run_in_threadpool(service.check_target, data.target, runtime.settings)
    return data


async def update_input(request: Request, runtime: RuntimeDep, _: SecretKeyStore) -> WebhookInput:
    data = schemas.parse_update(await read_json(request, MAX_BODY_BYTES))
    if data.target is not None:
        await run_in_threadpool(service.check_target, data.target, runtime.settings)
    return data


async def range_input(request: Request, _: SecretKeyStore) -> RangeInput:
    return schemas.parse_range(await read_json(request, MAX_BODY_BYTES), utcnow())


@router.get("", response_model=Page[Webhook])
def list_webhooks(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
) -> Page[Webhook]:
    """List the store's webhooks, oldest first (secrets are not shown)."""
    rows, total = service.list_webhooks(session, store.store_id, page)
    items = [schemas.webhook_view(r) for r in rows]
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    openapi_extra=json_body(
        schemas.WebhookCreate,
        examples={
            "document": {
                "summary": "The document's example, with its target",
                "value": {
                    "target": "https://example.com/hooks",
                    **schemas.DOCUMENT_REQUEST_EXAMPLE,
                },
            },
            "generated-secret": {
                "summary": "Let Cartwheel generate the secret",
                "value": {"target": "https://example.com/hooks", "events": ["order_created"]},
            },
        },
    ),
)
def create_webhook(
    store: SecretKeyStore,
    data: Annotated[WebhookInput, Depends(create_input)],
    session: WriteSession,
) -> WebhookCreated:
    """Create a webhook. The answer is the only time its secret is shown."""
    return schemas.created_view(service.create_webhook(session, store.store_id, data))


@router.get("/{webhook_id}", response_model=Webhook)
def get_webhook(webhook_id: str, store: SecretKeyStore, session: ReadSession) -> Webhook:
    """Get one webhook."""
    return schemas.webhook_view(service.get_webhook(session, store.store_id, webhook_id))


@router.put(
    "/{webhook_id}",
    response_model=Webhook,
    openapi_extra=json_body(
        schemas.WebhookUpdate,
        examples={
            "events": {"summary": "Change the events", "value": {"events": ["order_created"]}}
        },
    ),
)
def update_webhook(
    webhook_id: str,
    store: SecretKeyStore,
    data: Annotated[WebhookInput, Depends(update_input)],
    session: WriteSession,
) -> Webhook:
    """Change a webhook: only the supplied fields change."""
    row = service.update_webhook(session, store.store_id, webhook_id, data)
    return schemas.webhook_view(row)


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
def delete_webhook(webhook_id: str, store: SecretKeyStore, session: WriteSession) -> Response:
    """Delete a webhook, its queued deliveries and its delivery history."""
    service.delete_webhook(session, store.store_id, webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/pause", response_model=Webhook)
def pause_webhook(webhook_id: str, store: SecretKeyStore, session: WriteSession) -> Webhook:
    """Pause deliveries; events keep queueing and are sent, in order, on resume."""
    return schemas.webhook_view(service.pause_webhook(session, store.store_id, webhook_id))


@router.post("/{webhook_id}/resume", response_model=Webhook)
def resume_webhook(webhook_id: str, store: SecretKeyStore, session: WriteSession) -> Webhook:
    """Resume a paused webhook, or re-enable one disabled after failed deliveries; the
    oldest queued delivery is sent at once."""
    return schemas.webhook_view(service.resume_webhook(session, store.store_id, webhook_id))


@router.get("/{webhook_id}/deliveries", response_model=Page[Delivery])
def list_deliveries(
    webhook_id: str,
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[
        str | None,
        Query(description="Only deliveries with this status: pending, succeeded or failed."),
    ] = None,
) -> Page[Delivery]:
    """A webhook's deliveries, newest first, each with every attempt made."""
    items, total = service.list_deliveries(session, store.store_id, webhook_id, page, status)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=Delivery)
def get_delivery(
    webhook_id: str, delivery_id: str, store: SecretKeyStore, session: ReadSession
) -> Delivery:
    """One delivery with every attempt made."""
    return service.get_delivery(session, store.store_id, webhook_id, delivery_id)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=Delivery,
    responses=CONFLICT,
)
def replay_delivery(
    webhook_id: str, delivery_id: str, store: SecretKeyStore, session: WriteSession
) -> Delivery:
    """Send a finished delivery again (same `webhook-id` and body), behind what is queued."""
    return service.replay_delivery(session, store.store_id, webhook_id, delivery_id)


@router.post(
    "/{webhook_id}/replay",
    status_code=202,
    response_model=ReplayResult,
    openapi_extra=json_body(
        schemas.ReplayRange,
        examples={
            "failed": {
                "summary": "Everything given up during an outage",
                "value": {
                    "from": "2026-11-20T00:00:00Z",
                    "to": "2026-11-21T00:00:00Z",
                    "onlyFailed": True,
                },
            }
        },
    ),
)
def replay_range(
    webhook_id: str,
    store: SecretKeyStore,
    span: Annotated[RangeInput, Depends(range_input)],
    session: WriteSession,
) -> ReplayResult:
    """Send again every finished delivery queued in a time range, in their order."""
    count = service.replay_range(session, store.store_id, webhook_id, span)
    return ReplayResult(replayed=count)
