"""Campaigns: a marketing template sent to a subscriber list or a segment.

A campaign is expanded by :class:`CampaignTask` (a periodic task of the worker) once its
``send_at`` has come: in chunks, in contact id order (``last_contact_id`` is the cursor, so
a crash resumes where the last committed chunk ended), one message per recipient with the
idempotency key ``campaign:{id}:{contact}``. The rate limit is kept by the messages' own
``next_attempt_at``: the n-th recipient is due n / rate seconds after the campaign started,
so the send queue never sends a campaign faster, whatever the number of workers. Consent
and suppression are checked per message when it is sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.exceptions import NotFound, ValidationFailed
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.messages import service as states
from cartwheel.messages.schemas import Campaign, CampaignCreate, CampaignStats
from cartwheel.models import Campaign as CampaignRow
from cartwheel.models import (
    Contact,
    MessageTemplate,
    Segment,
    SegmentMembership,
    SubscriberList,
    SubscriberListContact,
)
from cartwheel.models import Message as MessageRow
from cartwheel.models.base import utcnow

SCHEDULED = "scheduled"
SENDING = "sending"
SENT = "sent"
#: Recipients given messages per chunk (one statement each way).
CHUNK = 1000

Clock = Callable[[], datetime]


def create(session: Session, store_id: int, data: CampaignCreate) -> Campaign:
    if (data.listId is None) == (data.segmentId is None):
        raise ValidationFailed({"listId": ["Give a listId or a segmentId (one of them)."]})
    template = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.store_id == store_id, MessageTemplate.id == data.templateId
        )
    )
    if template is None:
        raise ValidationFailed({"templateId": ["The template does not exist."]})
    if (
        data.listId is not None
        and session.scalar(
            select(SubscriberList.id).where(
                SubscriberList.store_id == store_id, SubscriberList.id == data.listId
            )
        )
        is None
    ):
        raise ValidationFailed({"listId": ["The subscriber list does not exist."]})
    if (
        data.segmentId is not None
        and session.scalar(
            select(Segment.id).where(
                Segment.store_id == store_id,
                Segment.id == data.segmentId,
                Segment.deleted_at.is_(None),
            )
        )
        is None
    ):
        raise ValidationFailed({"segmentId": ["The segment does not exist."]})
    now = utcnow()
    send_at = data.sendAt or now
    if send_at.tzinfo is None:
        raise ValidationFailed({"sendAt": ["Give the time with its offset (e.g. Z)."]})
    row = CampaignRow(
        store_id=store_id,
        name=data.name,
        template_id=template.id,
        list_id=data.listId,
        segment_id=data.segmentId,
        status=SCHEDULED,
        send_at=send_at,
        rate_per_second=data.ratePerSecond,
        recipients=0,
        last_contact_id=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return view(row, _stats(session, [row.id]).get(row.id, _EMPTY))


def get(session: Session, store_id: int, campaign_id: int) -> Campaign:
    row = session.scalar(
        select(CampaignRow).where(CampaignRow.store_id == store_id, CampaignRow.id == campaign_id)
    )
    if row is None:
        raise NotFound("Campaign not found.")
    return view(row, _stats(session, [row.id]).get(row.id, _EMPTY))


def list_campaigns(session: Session, store_id: int, page: PageParams) -> tuple[list[Campaign], int]:
    query = select(CampaignRow).where(CampaignRow.store_id == store_id).order_by(CampaignRow.id)
    rows, total = paginate(session, query, page)
    stats = _stats(session, [r.id for r in rows])
    return [view(r, stats.get(r.id, _EMPTY)) for r in rows], total


def view(row: CampaignRow, stats: CampaignStats) -> Campaign:
    return Campaign(
        id=row.id,
        name=row.name,
        templateId=row.template_id,
        listId=row.list_id,
        segmentId=row.segment_id,
        status=row.status,
        sendAt=row.send_at,
        ratePerSecond=row.rate_per_second,
        created=row.created_at,
        startedAt=row.started_at,
        finishedAt=row.finished_at,
        stats=stats.model_copy(update={"recipients": row.recipients}),
    )


_EMPTY = CampaignStats(
    recipients=0,
    sent=0,
    delivered=0,
    opened=0,
    clicked=0,
    unsubscribed=0,
    bounced=0,
    skipped=0,
    failed=0,
)


def _stats(session: Session, campaign_ids: list[int]) -> dict[int, CampaignStats]:
    """The campaigns' figures, counted per campaign and status along
    ``ix_messages_campaign_figures`` (every column read is in it, in its order, so no
    message row is read and nothing is sorted), then added up here."""
    if not campaign_ids:
        return {}
    m = MessageRow
    query = (
        select(
            m.campaign_id,
            m.status,
            func.count(),
            func.count(m.opened_at),
            func.count(m.clicked_at),
            func.count(m.unsubscribed_at),
        )
        .where(m.campaign_id.in_(campaign_ids))
        .group_by(m.campaign_id, m.status)
    )
    by_status: dict[int, dict[str, int]] = {}
    marks: dict[int, list[int]] = {}
    for cid, status, messages, opened, clicked, unsubscribed in session.execute(query):
        assert cid is not None  # selected by campaign id
        by_status.setdefault(cid, {})[status] = messages
        total = marks.setdefault(cid, [0, 0, 0])
        total[0] += opened
        total[1] += clicked
        total[2] += unsubscribed
    found: dict[int, CampaignStats] = {}
    for cid, counts in by_status.items():
        opened, clicked, unsubscribed = marks[cid]
        found[cid] = CampaignStats(
            recipients=0,
            sent=counts.get(states.SENT, 0) + counts.get(states.BOUNCED, 0),
            delivered=counts.get(states.SENT, 0),
            opened=opened,
            clicked=clicked,
            unsubscribed=unsubscribed,
            bounced=counts.get(states.BOUNCED, 0),
            skipped=counts.get(states.SKIPPED, 0),
            failed=counts.get(states.FAILED, 0),
        )
    return found


def _recipients(campaign: CampaignRow) -> Any:
    """The next chunk of the campaign's recipients: active contacts, in id order."""
    if campaign.list_id is not None:
        members = select(SubscriberListContact.contact_id).where(
            SubscriberListContact.list_id == campaign.list_id
        )
    else:
        members = select(SegmentMembership.contact_id).where(
            SegmentMembership.segment_id == campaign.segment_id
        )
    return (
        select(Contact.id)
        .where(
            Contact.store_id == campaign.store_id,
            Contact.id.in_(members),
            Contact.id > campaign.last_contact_id,
            Contact.deleted_at.is_(None),
            Contact.merged_into_id.is_(None),
        )
        .order_by(Contact.id)
        .limit(CHUNK)
    )


def expand(session: Session, campaign: CampaignRow, default_rate: float, now: datetime) -> int:
    """Queue the next chunk of the campaign's messages; returns how many recipients it
    covered (0: the campaign is fully queued, and is marked sent)."""
    if campaign.status == SCHEDULED:
        campaign.status = SENDING
        campaign.started_at = now
    template = (
        session.get(MessageTemplate, campaign.template_id)
        if campaign.template_id is not None
        else None
    )
    contact_ids = list(session.scalars(_recipients(campaign))) if template is not None else []
    if not contact_ids:
        campaign.status = SENT
        campaign.finished_at = now
        return 0
    assert template is not None and campaign.started_at is not None
    rate = campaign.rate_per_second or default_rate
    rows = [
        {
            "store_id": campaign.store_id,
            "contact_id": contact_id,
            "template_id": template.id,
            "campaign_id": campaign.id,
            "channel": template.channel,
            "topic": "marketing",
            "idempotency_key": f"campaign:{campaign.id}:{contact_id}",
            "status": states.QUEUED,
            "context": {},
            "attempts": 0,
            "opens": 0,
            "clicks": 0,
            "next_attempt_at": campaign.started_at
            + timedelta(seconds=(campaign.recipients + n) / rate),
            "created_at": now,
        }
        for n, contact_id in enumerate(contact_ids)
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(MessageRow).on_conflict_do_nothing(index_elements=["store_id", "idempotency_key"]),
        rows,
    )
    campaign.recipients += len(contact_ids)
    campaign.last_contact_id = contact_ids[-1]
    return len(contact_ids)


class CampaignTask:
    """The periodic task (worker/registry.py): one chunk of each due campaign per call,
    each campaign in a transaction of its own (claimed with ``SKIP LOCKED``)."""

    def __init__(self, settings: Settings, *, clock: Clock = utcnow, limit: int = 8) -> None:
        self.rate = settings.campaign_rate_per_second
        self.clock = clock
        self.limit = limit

    def __call__(self, db: Database) -> int:
        now = self.clock()
        due = CampaignRow.status.in_((SCHEDULED, SENDING)) & (CampaignRow.send_at <= now)
        if db.is_sqlite:
            with db.read() as session:
                if session.scalar(select(CampaignRow.id).where(due).limit(1)) is None:
                    return 0
        handled = 0
        with db.transaction() as session:
            query = select(CampaignRow).where(due).order_by(CampaignRow.id).limit(self.limit)
            if not db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            for campaign in session.scalars(query):
                handled += expand(session, campaign, self.rate, now) or 1
        return handled
