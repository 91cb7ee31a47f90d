"""The store's audit log: who did what, when, newest first."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from cartwheel.admin import audit
from cartwheel.admin.web import Scoped, admin_router, list_page

router = admin_router()

PAGE = 50


@router.get("/admin/stores/{store_id}/audit")
def log(request: Request, scope: Scoped, skip: int = 0) -> HTMLResponse:
    return list_page(request, scope, skip, audit.entries, "audit.html", limit=PAGE, page="audit")
