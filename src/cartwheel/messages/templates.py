"""Templates: checked when saved (a template that does not parse, or names a variable no
message can have, is a 422 with its line and column), rendered for preview."""

from __future__ import annotations

import uuid
from typing import Any

from liquid.exceptions import LiquidError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartwheel.contacts import repository as contact_rows
from cartwheel.exceptions import Conflict, NotFound, ValidationFailed
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.messages import language, rendering, variables
from cartwheel.messages.schemas import (
    RenderRequest,
    RenderResult,
    Template,
    TemplateCreate,
    TemplateUpdate,
)
from cartwheel.models import MessageTemplate, Store
from cartwheel.models.base import utcnow

_PARTS = (("subject", False), ("html", True), ("text", False))


def view(row: MessageTemplate) -> Template:
    email = row.channel == "email"
    return Template(
        id=row.id,
        name=row.name,
        key=row.key,
        channel=row.channel,
        topic=row.topic,
        subject=row.subject,
        html=row.body if email else None,
        text=row.text if email else row.body,
        fromEmail=row.from_email,
        fromName=row.from_name,
        replyTo=row.reply_to,
        created=row.created_at,
        updated=row.updated_at,
    )


def get(session: Session, store_id: int, template_id: int) -> MessageTemplate:
    row = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.store_id == store_id, MessageTemplate.id == template_id
        )
    )
    if row is None:
        raise NotFound("Template not found.")
    return row


def list_templates(session: Session, store_id: int, page: PageParams) -> tuple[list[Template], int]:
    query = (
        select(MessageTemplate)
        .where(MessageTemplate.store_id == store_id)
        .order_by(MessageTemplate.id)
    )
    rows, total = paginate(session, query, page)
    return [view(r) for r in rows], total


def check(parts: dict[str, str | None]) -> None:
    """Parse every part and check the variables it names; a 422 naming the part, the line
    and the column of the first problem in each."""
    errors: dict[str, list[str]] = {}
    for name, html in _PARTS:
        source = parts.get(name)
        if source is None:
            continue
        try:
            template = language.parse(source, html)
        except LiquidError as exc:
            problem: language.Problem | None = language.problem_of(exc)
        else:
            problem = variables.unknown_name(template, source)
        if problem is not None:
            errors[name] = [f"Line {problem.line}, column {problem.column}: {problem.message}"]
    if errors:
        raise ValidationFailed(errors)


def _require(channel: str, subject: str | None, html: str | None, text: str | None) -> None:
    if channel == "email":
        missing = {
            k: ["An email template needs it."]
            for k, v in (("subject", subject), ("html", html))
            if not v
        }
        if missing:
            raise ValidationFailed(missing)
    else:
        if html is not None or subject is not None:
            raise ValidationFailed(
                {"html": ["An SMS template has only `text`: no subject or HTML."]}
            )
        if not text:
            raise ValidationFailed({"text": ["An SMS template needs it."]})


def create(session: Session, store_id: int, data: TemplateCreate) -> Template:
    _require(data.channel, data.subject, data.html, data.text)
    check({"subject": data.subject, "html": data.html, "text": data.text})
    now = utcnow()
    email = data.channel == "email"
    row = MessageTemplate(
        store_id=store_id,
        name=data.name,
        key=data.key,
        channel=data.channel,
        topic="transactional" if data.key else data.topic,
        subject=data.subject,
        body=data.html if email else data.text,
        text=data.text if email else None,
        from_email=data.fromEmail,
        from_name=data.fromName,
        reply_to=data.replyTo,
        created_at=now,
        updated_at=now,
    )
    if data.key and data.channel != "email":
        raise ValidationFailed({"channel": ["Cartwheel's transactional messages are emails."]})
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(f"The store already has a template for '{data.key}'.") from None
    return view(row)


def update(session: Session, store_id: int, template_id: int, data: TemplateUpdate) -> Template:
    row = get(session, store_id, template_id)
    given = data.model_fields_set
    email = row.channel == "email"
    subject = data.subject if "subject" in given else row.subject
    html = (data.html if "html" in given else row.body) if email else None
    text = data.text if "text" in given else (row.text if email else row.body)
    _require(row.channel, subject, html, text)
    check({"subject": subject, "html": html, "text": text})
    if "name" in given:
        if data.name is None:
            raise ValidationFailed({"name": ["The name cannot be removed."]})
        row.name = data.name
    if "topic" in given and data.topic is not None and not row.key:
        row.topic = data.topic
    row.subject = subject
    if email:
        row.body, row.text = html or "", text
    else:
        row.body = text or ""
    for field, column in (
        ("fromEmail", "from_email"),
        ("fromName", "from_name"),
        ("replyTo", "reply_to"),
    ):
        if field in given:
            setattr(row, column, getattr(data, field))
    row.updated_at = utcnow()
    session.flush()
    return view(row)


def delete(session: Session, store_id: int, template_id: int) -> None:
    session.delete(get(session, store_id, template_id))
    session.flush()


def source_of(row: MessageTemplate) -> rendering.Source:
    return rendering.Source(row.channel, row.subject, row.body, row.text)


def preview(session: Session, store_id: int, template_id: int, data: RenderRequest) -> RenderResult:
    row = get(session, store_id, template_id)
    values = _preview_variables(session, store_id, data)
    try:
        result = rendering.render(source_of(row), values)
    except language.RenderFailed as exc:
        raise ValidationFailed({"template": [str(exc)]}) from None
    return RenderResult(subject=result.subject, html=result.html, text=result.text)


def _preview_variables(session: Session, store_id: int, data: RenderRequest) -> dict[str, Any]:
    if data.contactId is None:
        values = dict(variables.SAMPLE)
        if data.data:
            values["data"] = data.data
        values["unsubscribe_url"] = "https://cartwheel.example.com/u/sample"
        return values
    contact = contact_rows.get(session, store_id, data.contactId)
    if contact is None:
        raise NotFound("Contact not found.")
    context: dict[str, Any] = {}
    for key, value in (("order_id", data.orderId), ("cart_id", data.cartId)):
        if value is not None:
            context[key] = value
    if data.eventId is not None:
        try:
            context["event_id"] = str(uuid.UUID(data.eventId))
        except ValueError:
            raise NotFound("Event not found.") from None
    if data.data:
        context["data"] = data.data
    store = session.get(Store, store_id)
    assert store is not None
    records = variables.Records(store, contact, context)
    values = variables.build(
        session, records, variables.contact_views(session, [contact])[contact.id]
    )
    for key, name in (("event_id", "event"), ("order_id", "order"), ("cart_id", "cart")):
        if key in context and name not in values:
            raise NotFound(f"{name.capitalize()} not found.")
    values["unsubscribe_url"] = "https://cartwheel.example.com/u/preview"
    return values
