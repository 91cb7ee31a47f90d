"""Flow queries, always scoped by store: a flow or run id of another store names nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cartwheel.kit.requests import is_id
from cartwheel.models import Flow, FlowRun, FlowRunStep, FlowVersion


def store_flows(store_id: int) -> Select[Any]:
    return select(Flow).where(Flow.store_id == store_id, Flow.deleted_at.is_(None))


def get(session: Session, store_id: int, flow_id: int) -> Flow | None:
    if not is_id(flow_id):
        return None
    row = session.get(Flow, flow_id)
    if row is None or row.store_id != store_id or row.deleted_at is not None:
        return None
    return row


def published(session: Session, store_id: int) -> list[Flow]:
    """The store's flows with a published version (live or paused), oldest first."""
    return list(
        session.scalars(store_flows(store_id).where(Flow.version.is_not(None)).order_by(Flow.id))
    )


def version(session: Session, flow_id: int, number: int) -> FlowVersion | None:
    return session.get(FlowVersion, (flow_id, number))


def runs(store_id: int, flow_id: int, state: str | None, contact_id: int | None) -> Select[Any]:
    query = select(FlowRun).where(FlowRun.store_id == store_id, FlowRun.flow_id == flow_id)
    if state is not None:
        query = query.where(FlowRun.state == state)
    if contact_id is not None:
        query = query.where(FlowRun.contact_id == contact_id)
    return query.order_by(FlowRun.id.desc())


def get_run(session: Session, store_id: int, run_id: int) -> FlowRun | None:
    if not is_id(run_id):
        return None
    row = session.get(FlowRun, run_id)
    if row is None or row.store_id != store_id:
        return None
    return row


def steps_of(session: Session, run_id: int) -> list[FlowRunStep]:
    return list(
        session.scalars(
            select(FlowRunStep).where(FlowRunStep.run_id == run_id).order_by(FlowRunStep.seq)
        )
    )


def active_runs(session: Session, flow_id: int) -> list[FlowRun]:
    return list(
        session.scalars(
            select(FlowRun)
            .where(FlowRun.flow_id == flow_id, FlowRun.state == "active")
            .order_by(FlowRun.id)
        )
    )


def run_counts(session: Session, flow_ids: list[int]) -> dict[int, dict[str, int]]:
    if not flow_ids:
        return {}
    rows = session.execute(
        select(FlowRun.flow_id, FlowRun.state, func.count())
        .where(FlowRun.flow_id.in_(flow_ids), FlowRun.test.is_(False))
        .group_by(FlowRun.flow_id, FlowRun.state)
    ).all()
    found: dict[int, dict[str, int]] = {}
    for flow_id, state, count in rows:
        found.setdefault(flow_id, {})[state] = count
    return found
