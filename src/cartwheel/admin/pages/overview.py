"""Overview: events per minute by wire format (chart), the processing backlog and lag, and
webhook and message delivery success over the last hour, day and week."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse

from cartwheel.admin.web import Scoped, admin_router, render, runtime
from cartwheel.events import service as events
from cartwheel.messages import summary as messages
from cartwheel.models.base import utcnow
from cartwheel.webhooks import service as webhooks
from cartwheel.worker import service as queues

router = admin_router()

SPAN_LENGTHS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}


@router.get("/admin/stores/{store_id}")
def overview(request: Request, scope: Scoped, span: str = "hour") -> HTMLResponse:
    if span not in events.SPANS:
        span = "hour"
    now = utcnow()
    with runtime(request).db.read() as session:
        rate = events.ingest_rate(session, scope.store_id, span, now)
        backlog = queues.backlog(session, scope.store_id)
        deliveries = {
            name: webhooks.delivery_summary(session, scope.store_id, now - length)
            for name, length in SPAN_LENGTHS.items()
        }
        sent = messages.delivery_summaries(
            session,
            scope.store_id,
            {name: now - length for name, length in SPAN_LENGTHS.items()},
        )
    chart = {
        "x": [int(start.timestamp()) for start in rate.starts],
        "series": rate.per_minute,
        "bucket": rate.bucket_minutes,
    }
    return render(
        request,
        "overview.html",
        scope.context(
            page="overview",
            span=span,
            spans=list(events.SPANS),
            rate=rate,
            chart=chart,
            backlog=backlog,
            lag=backlog.lag_seconds(now),
            deliveries=deliveries,
            sent=sent,
        ),
    )
