"""Reading the message log: ``GET /v1/messages`` and ``GET /v1/messages/{id}``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.exceptions import NotFound
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.messages.schemas import Message, MessageAttempt, MessageDetail
from cartwheel.models import Message as MessageRow
from cartwheel.models import MessageAttempt as AttemptRow


def view(row: MessageRow) -> Message:
    return Message(
        id=row.id,
        contactId=row.contact_id,
        templateId=row.template_id,
        templateKey=row.template_key,
        campaignId=row.campaign_id,
        channel=row.channel,
        topic=row.topic,
        status=row.status,
        to=row.to_address,
        idempotencyKey=row.idempotency_key,
        subject=row.subject,
        attempts=row.attempts,
        lastError=row.last_error,
        created=row.created_at,
        sentAt=row.sent_at,
        openedAt=row.opened_at,
        clickedAt=row.clicked_at,
        opens=row.opens,
        clicks=row.clicks,
    )


def list_messages(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    contact_id: int | None = None,
    template_id: int | None = None,
    campaign_id: int | None = None,
    status: str | None = None,
) -> tuple[list[Message], int]:
    """The store's messages, newest first, filtered."""
    query = select(MessageRow).where(MessageRow.store_id == store_id)
    for column, value in (
        (MessageRow.contact_id, contact_id),
        (MessageRow.template_id, template_id),
        (MessageRow.campaign_id, campaign_id),
        (MessageRow.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    rows, total = paginate(session, query.order_by(MessageRow.id.desc()), page)
    return [view(r) for r in rows], total


def read_message(session: Session, store_id: int, message_id: int) -> MessageDetail:
    row = session.scalar(
        select(MessageRow).where(MessageRow.store_id == store_id, MessageRow.id == message_id)
    )
    if row is None:
        raise NotFound("Message not found.")
    attempts = session.scalars(
        select(AttemptRow).where(AttemptRow.message_id == row.id).order_by(AttemptRow.id)
    )
    return MessageDetail(
        **view(row).model_dump(),
        html=row.html,
        text=row.text,
        messageIdHeader=row.message_id_header,
        attemptLog=[
            MessageAttempt(
                startedAt=a.started_at,
                finishedAt=a.finished_at,
                outcome=a.outcome,
                code=a.code,
                error=a.error,
            )
            for a in attempts
        ],
    )
