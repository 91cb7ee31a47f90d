"""Segments: the list with sizes; the builder with a live count (preview) as you edit; a
segment's size over time (chart), members and "why is this contact (not) in it"; editing
and deleting (asked for and audited)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from cartwheel.admin import audit, builder
from cartwheel.admin.web import (
    Post,
    Scope,
    Scoped,
    admin_router,
    confirm_page,
    list_page,
    page_skip,
    path_id,
    render,
    runtime,
    see,
)
from cartwheel.contacts import service as contacts
from cartwheel.exceptions import AppError, NotFound, ValidationFailed
from cartwheel.kit.pagination import PageParams
from cartwheel.segments import schemas
from cartwheel.segments import service as segments

router = admin_router()

MEMBERS_PAGE = 50
LIST_PAGE = 50


def _messages(exc: AppError) -> list[str]:
    if isinstance(exc, ValidationFailed):
        return [
            f"{path}: {message}" if path not in ("name", "condition") else message
            for path, messages in exc.errors.items()
            for message in messages
        ]
    return [exc.message]


@router.get("/admin/stores/{store_id}/segments")
def listing(request: Request, scope: Scoped, skip: int = 0) -> HTMLResponse:
    return list_page(
        request,
        scope,
        skip,
        segments.list_segments,
        "segments.html",
        limit=LIST_PAGE,
        page="segments",
    )


def _builder_page(
    request: Request,
    scope: Scope,
    built: builder.Built,
    *,
    name: str = "",
    description: str = "",
    segment: Any = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "segment_form.html",
        scope.context(
            page="segments",
            built=built,
            name=name,
            description=description,
            segment=segment,
            errors=errors or [],
            kinds=builder.KINDS,
            ops=builder.OPS,
            fields=builder.PROFILE_FIELDS,
        ),
        status,
    )


@router.get("/admin/stores/{store_id}/segments/new")
def new(request: Request, scope: Scoped) -> HTMLResponse:
    return _builder_page(request, scope, builder.Built())


@router.get("/admin/stores/{store_id}/segments/builder-row")
def builder_row(request: Request, scope: Scoped) -> HTMLResponse:
    """One more empty condition row (HTMX appends it)."""
    return render(
        request,
        "_builder_row.html",
        scope.context(
            row=builder.Row(), kinds=builder.KINDS, ops=builder.OPS, fields=builder.PROFILE_FIELDS
        ),
    )


@router.post("/admin/stores/{store_id}/segments/preview")
def preview(request: Request, posted: Post) -> HTMLResponse:
    """How many contacts the condition being built matches now (nothing is saved)."""
    scope = posted.scope
    built = builder.build(posted.form)
    result = None
    errors = list(built.errors)
    if built.empty:
        errors = []
    elif built.condition is not None:
        try:
            node = schemas.parse_preview({"condition": built.condition})
            with runtime(request).db.read() as session:
                result = segments.preview(session, scope.store_id, node)
        except AppError as exc:
            errors = _messages(exc)
    return render(
        request,
        "_preview.html",
        scope.context(result=result, errors=errors, condition=built.condition, empty=built.empty),
    )


@router.post("/admin/stores/{store_id}/segments")
def create(request: Request, posted: Post) -> Response:
    scope = posted.scope
    built = builder.build(posted.form)
    name = posted.form.get("name").strip()
    description = posted.form.get("description").strip()
    if built.errors or built.condition is None:
        return _builder_page(
            request,
            scope,
            built,
            name=name,
            description=description,
            errors=built.errors,
            status=422,
        )
    body: dict[str, Any] = {"name": name, "condition": built.condition}
    if description:
        body["description"] = description
    try:
        data = schemas.parse_body(body, creating=True)
        with runtime(request).db.transaction() as session:
            created = segments.create_segment(session, scope.store_id, data)
            audit.record(
                session,
                scope.who,
                scope.store_id,
                "segment.create",
                f"segment {created.id}",
                {"name": created.name},
            )
    except AppError as exc:
        return _builder_page(
            request,
            scope,
            built,
            name=name,
            description=description,
            errors=_messages(exc),
            status=422,
        )
    return see(f"{scope.base}/segments/{created.id}")


@router.get("/admin/stores/{store_id}/segments/{segment_id}")
def detail(request: Request, scope: Scoped, segment_id: str, skip: int = 0) -> HTMLResponse:
    seg_id = path_id(segment_id)
    skip = page_skip(skip)
    with runtime(request).db.read() as session:
        segment = segments.read_segment(session, scope.store_id, seg_id)
        history = segments.history(session, scope.store_id, seg_id)
        members, member_total = segments.list_members(
            session, scope.store_id, seg_id, PageParams(limit=MEMBERS_PAGE, skip=skip)
        )
    chart = {
        "x": [day.day for day in history.items],
        "size": [day.size for day in history.items],
        "entered": [day.entered for day in history.items],
        "exited": [day.exited for day in history.items],
    }
    return render(
        request,
        "segment.html",
        scope.context(
            page="segments",
            segment=segment,
            history=history.items,
            chart=chart,
            members=members,
            member_total=member_total,
            skip=skip,
            limit=MEMBERS_PAGE,
        ),
    )


@router.get("/admin/stores/{store_id}/segments/{segment_id}/explain")
def explain(request: Request, scope: Scoped, segment_id: str, contact: str = "") -> HTMLResponse:
    seg_id = path_id(segment_id)
    contact = contact.strip()[:320]
    result = None
    error = None
    with runtime(request).db.read() as session:
        segment = segments.read_segment(session, scope.store_id, seg_id)
        if contact:
            try:
                if "@" in contact:
                    contact_id = contacts.find_by_email(session, scope.store_id, contact).id
                else:
                    contact_id = path_id(contact)
                result = segments.explain(session, scope.store_id, seg_id, contact_id)
            except NotFound:
                error = f"No contact {contact} in this store."
            except AppError as exc:
                error = exc.message
    return render(
        request,
        "explain.html",
        scope.context(
            page="segments", segment=segment, contact=contact, result=result, error=error
        ),
    )


@router.get("/admin/stores/{store_id}/segments/{segment_id}/edit")
def edit(request: Request, scope: Scoped, segment_id: str) -> HTMLResponse:
    seg_id = path_id(segment_id)
    with runtime(request).db.read() as session:
        segment = segments.read_segment(session, scope.store_id, seg_id)
    built = builder.Built(json_text=json.dumps(segment.condition, indent=2))
    return _builder_page(
        request,
        scope,
        built,
        name=segment.name,
        description=segment.description or "",
        segment=segment,
    )


@router.post("/admin/stores/{store_id}/segments/{segment_id}")
def update(request: Request, posted: Post, segment_id: str) -> Response:
    scope = posted.scope
    seg_id = path_id(segment_id)
    built = builder.build(posted.form)
    name = posted.form.get("name").strip()
    description = posted.form.get("description").strip()
    with runtime(request).db.read() as session:
        segment = segments.read_segment(session, scope.store_id, seg_id)
    if built.errors or built.condition is None:
        return _builder_page(
            request,
            scope,
            built,
            name=name,
            description=description,
            segment=segment,
            errors=built.errors,
            status=422,
        )
    body = {"name": name, "condition": built.condition, "description": description or None}
    try:
        data = schemas.parse_body(body, creating=False)
        with runtime(request).db.transaction() as session:
            updated = segments.update_segment(session, scope.store_id, seg_id, data)
            audit.record(
                session,
                scope.who,
                scope.store_id,
                "segment.update",
                f"segment {seg_id}",
                {"version": updated.version},
            )
    except AppError as exc:
        if isinstance(exc, NotFound):
            raise
        return _builder_page(
            request,
            scope,
            built,
            name=name,
            description=description,
            segment=segment,
            errors=_messages(exc),
            status=422,
        )
    return see(f"{scope.base}/segments/{seg_id}")


@router.post("/admin/stores/{store_id}/segments/{segment_id}/delete")
def delete(request: Request, posted: Post, segment_id: str) -> Response:
    scope = posted.scope
    seg_id = path_id(segment_id)
    with runtime(request).db.read() as session:
        segment = segments.read_segment(session, scope.store_id, seg_id)
    if not posted.confirmed():
        return confirm_page(
            request,
            posted,
            f"Delete the segment “{segment.name}”?",
            f"Its {segment.size:,} memberships and its history go with it; no contact is "
            "announced as leaving it. This cannot be undone.",
            "Delete the segment",
        )
    with runtime(request).db.transaction() as session:
        segments.delete_segment(session, scope.store_id, seg_id)
        audit.record(
            session,
            scope.who,
            scope.store_id,
            "segment.delete",
            f"segment {seg_id}",
            {"name": segment.name, "size": segment.size},
        )
    return see(f"{scope.base}/segments")
