"""Messages and campaigns: the message log (newest first, by status) and a message with its
content as rendered and sent, shown in a sandboxed frame (``srcdoc``: never the message's
HTML inside the back office's own page); templates, each previewed for a contact the
operator picks; campaigns with their sent, opened and clicked figures. Read through the
messages package's services, as the API is."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from cartwheel.admin.web import Scoped, admin_router, list_page, page_skip, path_id, render, runtime
from cartwheel.contacts import service as contacts
from cartwheel.contacts.schemas import Contact
from cartwheel.exceptions import NotFound, ValidationFailed
from cartwheel.kit.pagination import PageParams
from cartwheel.messages import campaigns, log, templates
from cartwheel.messages import service as states
from cartwheel.messages.schemas import RenderRequest, RenderResult

router = admin_router()

PAGE = 25


@router.get("/admin/stores/{store_id}/messages")
def message_log(request: Request, scope: Scoped, status: str = "", skip: int = 0) -> HTMLResponse:
    skip = page_skip(skip)
    wanted = status if status in states.STATUSES else None
    with runtime(request).db.read() as session:
        rows, total = log.list_messages(
            session, scope.store_id, PageParams(limit=PAGE, skip=skip), status=wanted
        )
    return render(
        request,
        "messages.html",
        scope.context(
            page="messages",
            tab="log",
            rows=rows,
            total=total,
            status=wanted or "",
            statuses=states.STATUSES,
            skip=skip,
            limit=PAGE,
        ),
    )


@router.get("/admin/stores/{store_id}/messages/{message_id}")
def message(request: Request, scope: Scoped, message_id: str) -> HTMLResponse:
    mid = path_id(message_id)
    with runtime(request).db.read() as session:
        found = log.read_message(session, scope.store_id, mid)
    return render(request, "message.html", scope.context(page="messages", tab="log", message=found))


@router.get("/admin/stores/{store_id}/templates")
def template_list(request: Request, scope: Scoped, skip: int = 0) -> HTMLResponse:
    return list_page(
        request,
        scope,
        skip,
        templates.list_templates,
        "templates.html",
        limit=PAGE,
        page="messages",
        tab="templates",
    )


@router.get("/admin/stores/{store_id}/templates/{template_id}")
def template(request: Request, scope: Scoped, template_id: str, contact: str = "") -> HTMLResponse:
    """A template and its preview: for the contact asked for (an id, an email, a phone
    number or an external id of this store), else with the sample data."""
    tid = path_id(template_id)
    contact = contact.strip()[:320]
    problem: str | None = None
    preview: RenderResult | None = None
    chosen: Contact | None = None
    with runtime(request).db.read() as session:
        row = templates.view(templates.get(session, scope.store_id, tid))
        if contact:
            chosen = _contact(session, scope.store_id, contact)
            if chosen is None:
                problem = f"No contact {contact} in this store."
        try:
            if problem is None:
                preview = templates.preview(
                    session,
                    scope.store_id,
                    tid,
                    RenderRequest(contactId=chosen.id if chosen is not None else None),
                )
        except ValidationFailed as exc:  # a template that fails to render for this contact
            problem = "; ".join(m for values in exc.errors.values() for m in values)
        except NotFound as exc:
            problem = exc.message
    return render(
        request,
        "template.html",
        scope.context(
            page="messages",
            tab="templates",
            template=row,
            contact=contact,
            chosen=chosen,
            preview=preview,
            problem=problem,
        ),
    )


def _contact(session: Any, store_id: int, wanted: str) -> Contact | None:
    """The contact an operator typed: an id of this store, or the first a search finds."""
    if wanted.isascii() and wanted.isdigit() and len(wanted) <= 10:
        try:
            found = contacts.read_contact(session, store_id, int(wanted))
        except NotFound:
            return None
        return found
    hits = contacts.search_contacts(session, store_id, wanted, limit=1)
    return hits[0] if hits else None


@router.get("/admin/stores/{store_id}/campaigns")
def campaign_list(request: Request, scope: Scoped, skip: int = 0) -> HTMLResponse:
    return list_page(
        request,
        scope,
        skip,
        campaigns.list_campaigns,
        "campaigns.html",
        limit=PAGE,
        page="messages",
        tab="campaigns",
    )


@router.get("/admin/stores/{store_id}/campaigns/{campaign_id}")
def campaign(request: Request, scope: Scoped, campaign_id: str, skip: int = 0) -> HTMLResponse:
    cid = path_id(campaign_id)
    skip = page_skip(skip)
    with runtime(request).db.read() as session:
        found = campaigns.get(session, scope.store_id, cid)
        rows, total = log.list_messages(
            session, scope.store_id, PageParams(limit=PAGE, skip=skip), campaign_id=cid
        )
    return render(
        request,
        "campaign.html",
        scope.context(
            page="messages",
            tab="campaigns",
            campaign=found,
            rows=rows,
            total=total,
            skip=skip,
            limit=PAGE,
        ),
    )
