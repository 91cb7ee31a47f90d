"""Webhooks: the subscriptions; a webhook's delivery log with every attempt, its status and
latency; replaying a delivery, pausing and resuming (asked for where it resends, audited)."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from cartwheel.admin import audit
from cartwheel.admin.web import (
    Post,
    Scoped,
    admin_router,
    confirm_page,
    page_skip,
    render,
    runtime,
    see,
)
from cartwheel.kit.pagination import PageParams
from cartwheel.webhooks import service as webhooks
from cartwheel.webhooks.schemas import webhook_view

router = admin_router()

DELIVERIES_PAGE = 25


@router.get("/admin/stores/{store_id}/webhooks")
def listing(request: Request, scope: Scoped) -> HTMLResponse:
    with runtime(request).db.read() as session:
        rows, total = webhooks.list_webhooks(session, scope.store_id, PageParams(limit=50))
        views = [webhook_view(r) for r in rows]
    return render(
        request, "webhooks.html", scope.context(page="webhooks", webhooks=views, total=total)
    )


@router.get("/admin/stores/{store_id}/webhooks/{webhook_id}")
def deliveries(
    request: Request, scope: Scoped, webhook_id: str, status: str = "", skip: int = 0
) -> HTMLResponse:
    skip = page_skip(skip)
    wanted = status if status in webhooks.DELIVERY_STATUSES else None
    with runtime(request).db.read() as session:
        webhook = webhook_view(webhooks.get_webhook(session, scope.store_id, webhook_id))
        rows, total = webhooks.list_deliveries(
            session,
            scope.store_id,
            webhook_id,
            PageParams(limit=DELIVERIES_PAGE, skip=skip),
            wanted,
        )
    return render(
        request,
        "webhook.html",
        scope.context(
            page="webhooks",
            webhook=webhook,
            deliveries=rows,
            total=total,
            status=wanted or "",
            statuses=webhooks.DELIVERY_STATUSES,
            skip=skip,
            limit=DELIVERIES_PAGE,
        ),
    )


@router.post("/admin/stores/{store_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay")
def replay(request: Request, posted: Post, webhook_id: str, delivery_id: str) -> Response:
    scope = posted.scope
    with runtime(request).db.read() as session:
        original = webhooks.get_delivery(session, scope.store_id, webhook_id, delivery_id)
    if not posted.confirmed():
        return confirm_page(
            request,
            posted,
            f"Replay delivery {original.id}?",
            f"The {original.eventType} message is sent to the webhook again, with the same "
            "webhook-id and body, behind whatever is queued.",
            "Replay it",
        )
    with runtime(request).db.transaction() as session:
        replayed = webhooks.replay_delivery(session, scope.store_id, webhook_id, delivery_id)
        audit.record(
            session,
            scope.who,
            scope.store_id,
            "delivery.replay",
            f"webhook {webhook_id} delivery {original.id}",
            {"replay": replayed.id, "eventType": original.eventType},
        )
    return see(f"{scope.base}/webhooks/{webhook_id}")


@router.post("/admin/stores/{store_id}/webhooks/{webhook_id}/pause")
def pause(request: Request, posted: Post, webhook_id: str) -> Response:
    scope = posted.scope
    with runtime(request).db.transaction() as session:
        webhooks.pause_webhook(session, scope.store_id, webhook_id)
        audit.record(session, scope.who, scope.store_id, "webhook.pause", f"webhook {webhook_id}")
    return see(f"{scope.base}/webhooks/{webhook_id}")


@router.post("/admin/stores/{store_id}/webhooks/{webhook_id}/resume")
def resume(request: Request, posted: Post, webhook_id: str) -> Response:
    scope = posted.scope
    with runtime(request).db.transaction() as session:
        webhooks.resume_webhook(session, scope.store_id, webhook_id)
        audit.record(session, scope.who, scope.store_id, "webhook.resume", f"webhook {webhook_id}")
    return see(f"{scope.base}/webhooks/{webhook_id}")
