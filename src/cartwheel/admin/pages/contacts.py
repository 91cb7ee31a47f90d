"""Contacts: search; a profile with its fields, identifiers, event timeline (newest first,
filtered, paged by the event log's cursor), orders and carts, segments, flow runs,
messages and merges (with undo, asked for and audited)."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from cartwheel.admin import audit
from cartwheel.admin.web import (
    Post,
    Scoped,
    admin_router,
    confirm_page,
    path_id,
    render,
    runtime,
    see,
)
from cartwheel.contacts import service as contacts
from cartwheel.events import service as events
from cartwheel.events.queries import EventFilter
from cartwheel.flows import by_contact as flow_runs
from cartwheel.identity import service as identity
from cartwheel.identity.schemas import merge_view
from cartwheel.kit.pagination import PageParams
from cartwheel.messages import log as messages
from cartwheel.orders import service as orders
from cartwheel.segments import service as segments

router = admin_router()

TIMELINE_PAGE = 25
CATEGORIES = ("order", "cart", "product", "contact", "subscription", "form", "booking")


@router.get("/admin/stores/{store_id}/contacts")
def search(request: Request, scope: Scoped, q: str = "") -> HTMLResponse:
    q = q[:320]
    with runtime(request).db.read() as session:
        found = contacts.search_contacts(session, scope.store_id, q)
    return render(
        request,
        "contacts.html",
        scope.context(page="contacts", q=q, found=found, limit=contacts.SEARCH_LIMIT),
    )


def _filter(contact_id: int, name: str, category: str) -> EventFilter:
    return EventFilter(
        name=name.strip() or None,
        category=category if category in CATEGORIES else None,
        contact_id=contact_id,
    )


@router.get("/admin/stores/{store_id}/contacts/{contact_id}")
def profile(
    request: Request,
    scope: Scoped,
    contact_id: str,
    name: str = "",
    category: str = "",
    cursor: str = "",
) -> Response:
    cid = path_id(contact_id)
    sid = scope.store_id
    with runtime(request).db.read() as session:
        contact = contacts.read_contact(session, sid, cid)
        if contact.id != cid:  # a merged-away id: the contact it became
            return see(f"{scope.base}/contacts/{contact.id}")
        identifiers = contacts.identifiers(session, sid, cid)
        timeline = events.list_events(
            session, sid, _filter(cid, name, category), cursor or None, TIMELINE_PAGE
        )
        order_rows, order_total = orders.list_orders(
            session, sid, PageParams(limit=10), contact_id=cid, newest_first=True
        )
        carts, cart_total = orders.list_carts(session, sid, PageParams(limit=10), contact_id=cid)
        in_segments = segments.contact_segments(session, sid, cid)
        merges, merge_total = identity.list_merges(session, sid, PageParams(limit=20), cid)
        runs, run_total = flow_runs.contact_runs(session, sid, cid, limit=10)
        sent, sent_total = messages.list_messages(
            session, sid, PageParams(limit=10), contact_id=cid
        )
    return render(
        request,
        "contact.html",
        scope.context(
            page="contacts",
            contact=contact,
            identifiers=identifiers,
            timeline=timeline,
            name=name,
            category=category,
            categories=CATEGORIES,
            orders=order_rows,
            order_total=order_total,
            carts=carts,
            cart_total=cart_total,
            segments=in_segments,
            merges=[merge_view(m) for m in merges],
            merge_total=merge_total,
            runs=runs,
            run_total=run_total,
            messages=sent,
            message_total=sent_total,
        ),
    )


@router.get("/admin/stores/{store_id}/contacts/{contact_id}/timeline")
def timeline(
    request: Request,
    scope: Scoped,
    contact_id: str,
    name: str = "",
    category: str = "",
    cursor: str = "",
) -> Response:
    """The next page of the timeline, as rows to append (HTMX), or the profile page."""
    cid = path_id(contact_id)
    if request.headers.get("hx-request") != "true":
        query = request.url.query
        return see(f"{scope.base}/contacts/{cid}" + (f"?{query}" if query else ""))
    with runtime(request).db.read() as session:
        contact = contacts.read_contact(session, scope.store_id, cid)
        page = events.list_events(
            session,
            scope.store_id,
            _filter(contact.id, name, category),
            cursor or None,
            TIMELINE_PAGE,
        )
    return render(
        request,
        "_timeline_rows.html",
        scope.context(contact=contact, timeline=page, name=name, category=category),
    )


@router.post("/admin/stores/{store_id}/merges/{merge_id}/undo")
def undo_merge(request: Request, posted: Post, merge_id: str) -> Response:
    scope = posted.scope
    mid = path_id(merge_id)
    if not posted.confirmed():
        with runtime(request).db.read() as session:
            identity.get_merge(session, scope.store_id, mid)  # another store's: 404
        return confirm_page(
            request,
            posted,
            f"Undo merge {mid}?",
            "The merged contact comes back on its own, with the identifiers, events, orders "
            "and list memberships the merge moved. Fields copied into the surviving contact "
            "stay there.",
            "Undo the merge",
        )
    with runtime(request).db.transaction() as session:
        merge = identity.undo_merge(session, scope.store_id, mid)
        audit.record(
            session,
            scope.who,
            scope.store_id,
            "merge.undo",
            f"merge {mid}",
            {"source": merge.source_contact_id, "target": merge.target_contact_id},
        )
    return see(f"{scope.base}/contacts/{merge.source_contact_id}")
