"""The store's audit log: who did what, when, newest first."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from cartwheel.admin import audit
from cartwheel.admin.web import Scoped, admin_router, page_skip, render, runtime
from cartwheel.kit.pagination import PageParams

router = admin_router()

PAGE = 50


@router.get("/admin/stores/{store_id}/audit")
def log(request: Request, scope: Scoped, skip: int = 0) -> HTMLResponse:
    skip = page_skip(skip)
    with runtime(request).db.read() as session:
        rows, total = audit.entries(session, scope.store_id, PageParams(limit=PAGE, skip=skip))
    return render(
        request,
        "audit.html",
        scope.context(page="audit", rows=rows, total=total, skip=skip, limit=PAGE),
    )
