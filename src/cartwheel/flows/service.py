"""Flows: definitions, versions, pause and resume, runs, test runs and ready flows.
Services only flush; the request's transaction commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cartwheel.contacts import service as contacts
from cartwheel.exceptions import Conflict, NotFound
from cartwheel.flows import engine, repository, schemas, stored_trigger, triggers
from cartwheel.flows.definition import Definition, merge_mentions, parse_definition
from cartwheel.flows.validation import check_references
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import Event, FlowRun, FlowRunStep, FlowVersion
from cartwheel.models import Flow as FlowRow
from cartwheel.models.base import utcnow

DRAFT, LIVE, PAUSED = "draft", "live", "paused"


def get_flow(session: Session, store_id: int, flow_id: int) -> FlowRow:
    row = repository.get(session, store_id, flow_id)
    if row is None:
        raise NotFound("Flow not found.")
    return row


def view(session: Session, row: FlowRow, counts: dict[str, int] | None = None) -> schemas.Flow:
    if counts is None:
        counts = repository.run_counts(session, [row.id]).get(row.id, {})
    published = False
    if row.version is not None:
        current = repository.version(session, row.id, row.version)
        published = current is not None and current.definition == row.definition
    return schemas.Flow(
        id=row.id,
        name=row.name,
        description=row.description,
        state=row.state,
        version=row.version,
        definition=row.definition,
        published=published,
        runs=counts,
        createdAt=row.created_at,
        updatedAt=row.updated_at,
    )


def list_flows(session: Session, store_id: int, page: PageParams) -> tuple[list[schemas.Flow], int]:
    rows, total = paginate(session, repository.store_flows(store_id).order_by(FlowRow.id), page)
    counts = repository.run_counts(session, [r.id for r in rows])
    return [view(session, r, counts.get(r.id, {})) for r in rows], total


def read_flow(session: Session, store_id: int, flow_id: int) -> schemas.Flow:
    return view(session, get_flow(session, store_id, flow_id))


def create_flow(
    session: Session,
    store_id: int,
    data: dict[str, Any],
    definition: Definition,
    now: datetime | None = None,
) -> schemas.Flow:
    """Save a definition as a draft (publish it to start runs)."""
    check_references(session, store_id, definition)
    now = now or utcnow()
    row = FlowRow(
        store_id=store_id,
        name=definition.name,
        description=data.get("description"),
        definition=data,
        state=DRAFT,
        version=None,
        mentions={},
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return view(session, row, {})


def update_flow(
    session: Session,
    store_id: int,
    flow_id: int,
    data: dict[str, Any],
    definition: Definition,
    now: datetime | None = None,
) -> schemas.Flow:
    """Replace the saved definition; runs keep their version until a publish."""
    row = get_flow(session, store_id, flow_id)
    check_references(session, store_id, definition)
    row.name = definition.name
    row.description = data.get("description")
    row.definition = data
    row.updated_at = now or utcnow()
    session.flush()
    return view(session, row)


def delete_flow(session: Session, store_id: int, flow_id: int, now: datetime | None = None) -> None:
    """Delete a flow: its active runs end (``exited``), their history stays."""
    row = get_flow(session, store_id, flow_id)
    now = now or utcnow()
    for run in repository.active_runs(session, row.id):
        engine.end(session, run, engine.EXITED, "The flow was deleted.", now)
    row.deleted_at = now
    row.updated_at = now
    session.flush()


def publish(
    session: Session, store_id: int, flow_id: int, now: datetime | None = None
) -> schemas.Flow:
    """Make the saved definition the version new runs start on (a new version if it
    changed); a draft becomes live, a paused flow stays paused."""
    row = get_flow(session, store_id, flow_id)
    definition = parse_definition(row.definition)
    check_references(session, store_id, definition)
    now = now or utcnow()
    current = repository.version(session, row.id, row.version) if row.version else None
    if current is None or current.definition != row.definition:
        number = (
            session.execute(
                select(func.max(FlowVersion.version)).where(FlowVersion.flow_id == row.id)
            ).scalar_one()
            or 0
        ) + 1
        session.add(
            FlowVersion(flow_id=row.id, version=number, definition=row.definition, published_at=now)
        )
        row.version = number
        row.mentions = merge_mentions(row.mentions or {}, definition)
    if row.state == DRAFT:
        row.state = LIVE
    row.updated_at = now
    session.flush()
    return view(session, row)


def pause(
    session: Session, store_id: int, flow_id: int, now: datetime | None = None
) -> schemas.Flow:
    """Start no runs and hold the active ones where they are."""
    row = get_flow(session, store_id, flow_id)
    if row.state == DRAFT:
        raise Conflict("The flow is not published yet.")
    row.state = PAUSED
    row.updated_at = now or utcnow()
    session.flush()
    return view(session, row)


def resume(
    session: Session, store_id: int, flow_id: int, now: datetime | None = None
) -> schemas.Flow:
    """Start runs again, and look at every held run now: what happened while the flow was
    paused (an exit, the event a run waits for) is read from the log before any step."""
    row = get_flow(session, store_id, flow_id)
    if row.state == DRAFT:
        raise Conflict("The flow is not published yet.")
    now = now or utcnow()
    if row.state == PAUSED:
        row.state = LIVE
        session.execute(
            update(FlowRun)
            .where(FlowRun.flow_id == row.id, FlowRun.state == engine.ACTIVE)
            .values(wake_at=now),
            execution_options={"synchronize_session": False},
        )
    row.updated_at = now
    session.flush()
    return view(session, row)


# -- runs ------------------------------------------------------------------------------------


def run_views(session: Session, runs: list[FlowRun]) -> list[schemas.FlowRun]:
    """The runs (of one store) as the API shows them, each trigger whole (their events
    read at once)."""
    if not runs:
        return []
    wholes = stored_trigger.whole_all(session, runs[0].store_id, [run.trigger for run in runs])
    return [_run_view(run, trigger) for run, trigger in zip(runs, wholes, strict=True)]


def _run_view(run: FlowRun, trigger: dict[str, Any]) -> schemas.FlowRun:
    return schemas.FlowRun(
        id=run.id,
        flowId=run.flow_id,
        version=run.version,
        contactId=run.contact_id,
        key=run.key,
        state=run.state,
        step=run.step,
        waitingFor=run.waiting,
        wakeAt=run.wake_at,
        triggerAt=run.trigger_at,
        trigger=trigger,
        test=run.test,
        reason=run.reason,
        startedAt=run.started_at,
        finishedAt=run.finished_at,
    )


def step_view(row: FlowRunStep) -> schemas.RunStep:
    return schemas.RunStep(
        seq=row.seq,
        step=row.step,
        type=row.type,
        status=row.status,
        reason=row.reason,
        detail=row.detail or {},
        enteredAt=row.entered_at,
        finishedAt=row.finished_at,
    )


def list_runs(
    session: Session,
    store_id: int,
    flow_id: int,
    page: PageParams,
    state: str | None = None,
    contact_id: int | None = None,
) -> tuple[list[schemas.FlowRun], int]:
    row = get_flow(session, store_id, flow_id)
    rows, total = paginate(session, repository.runs(store_id, row.id, state, contact_id), page)
    return run_views(session, list(rows)), total


def read_run(session: Session, store_id: int, run_id: int) -> schemas.FlowRunDetail:
    run = repository.get_run(session, store_id, run_id)
    if run is None:
        raise NotFound("Flow run not found.")
    return detail(session, run)


def detail(session: Session, run: FlowRun) -> schemas.FlowRunDetail:
    """The run with its step log: the visits it ended, and the one it waits in (which has
    no row until it ends, :func:`engine.waiting_visit`)."""
    steps = [step_view(s) for s in repository.steps_of(session, run.id)]
    waiting = engine.waiting_visit(run)
    if waiting is not None:
        steps.append(step_view(FlowRunStep(**waiting)))
    [view] = run_views(session, [run])
    return schemas.FlowRunDetail(**view.model_dump(), steps=steps)


def test_flow(
    session: Session,
    store_id: int,
    flow_id: int,
    data: schemas.TestInput,
    now: datetime | None = None,
) -> schemas.FlowRunDetail:
    """Run the saved definition for one contact now, waits shortened (a wait for an event
    that has not happened takes its timeout exit), sending only to that contact and
    changing nothing else; answers with the step log."""
    row = get_flow(session, store_id, flow_id)
    definition = parse_definition(row.definition)
    check_references(session, store_id, definition)
    contact = contacts.get_contact(session, store_id, data.contactId)
    if contact.deleted_at is not None or contact.merged_into_id is not None:
        raise NotFound("Contact not found.")
    now = now or utcnow()
    begin = engine.Start(contact.id, "", now, {"source": "test", "event": None, "entity": None})
    if data.eventId is not None:
        event = _event(session, store_id, contact.id, data.eventId)
        context = stored_trigger.of_event(event)
        key = ""
        for trigger in definition.triggers:
            if trigger.event is not None and trigger.event.matches(
                event.name, event.category, event.action
            ):
                key = triggers.key_of(trigger, {"properties": event.properties}, event.entity, None)
                break
        begin = engine.Start(contact.id, key, event.occurred_at, context)
    run = engine.start(session, row, definition, begin, now, test=True, version=row.version or 0)
    if run is None:
        raise Conflict("The contact does not pass the flow's entry filter.")
    assert isinstance(run, FlowRun)  # a test run is an ORM object, flushed at once
    if run.state == engine.ACTIVE:
        engine.end(session, run, engine.EXITED, "A test run stops after 200 steps.", now)
    session.flush()
    return detail(session, run)


def _event(session: Session, store_id: int, contact_id: int, raw: str) -> Event:
    try:
        event_id = uuid.UUID(raw)
    except ValueError:
        raise NotFound("Event not found.") from None
    event = session.get(Event, event_id)
    if event is None or event.store_id != store_id or event.contact_id != contact_id:
        raise NotFound("Event not found.")
    return event


def enable_ready(
    session: Session, store_id: int, name: str, template_id: int, now: datetime | None = None
) -> schemas.Flow:
    """Create and publish a ready flow (``order-confirmation``) sending ``template_id``."""
    make = schemas.READY.get(name)
    if make is None:
        raise NotFound("There is no ready flow of that name.")
    data = make(template_id)
    definition = parse_definition(data)
    created = create_flow(session, store_id, data, definition, now)
    return publish(session, store_id, created.id, now)
