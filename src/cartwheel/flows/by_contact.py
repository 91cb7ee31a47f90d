"""A contact's flow runs across every flow of the store (the back office's contact
profile), newest first, each with its flow's name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartwheel.flows import schemas
from cartwheel.flows.service import run_views
from cartwheel.models import Flow, FlowRun


@dataclass(frozen=True)
class ContactRun:
    run: schemas.FlowRun
    flow_name: str
    #: False when the flow has been deleted since (the run's history stays).
    flow_exists: bool


def contact_runs(
    session: Session, store_id: int, contact_id: int, limit: int
) -> tuple[list[ContactRun], int]:
    """The contact's runs (test runs included, flagged), newest first, at most ``limit``,
    and how many there are (by the contact-first ``uq_flow_runs_slot`` index)."""
    own = (FlowRun.store_id == store_id, FlowRun.contact_id == contact_id)
    total = session.execute(select(func.count()).select_from(FlowRun).where(*own)).scalar_one()
    rows = session.execute(
        select(FlowRun, Flow.name, Flow.deleted_at)
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(*own, Flow.store_id == store_id)
        .order_by(FlowRun.id.desc())
        .limit(limit)
    ).all()
    views = run_views(session, [run for run, _, _ in rows])
    found = [
        ContactRun(view, name, deleted is None)
        for view, (_, name, deleted) in zip(views, rows, strict=True)
    ]
    return found, total
