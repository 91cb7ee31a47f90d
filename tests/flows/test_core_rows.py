"""A pass reads its runs, contacts and last starts as the driver's rows on PostgreSQL
(``matching.core``), skipping SQLAlchemy's row machinery: each read gives exactly what
SQLAlchemy's own rows give (ids, text, booleans, moments in UTC, JSON decoded), on both
engines."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Select, select

from cartwheel.db import Database
from cartwheel.flows import engine, matching, triggers
from cartwheel.models import Contact, FlowRun
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import BROWSE, Clock, publish
from tests.segments.helpers import track


def _both(db: Database, query: Select[Any]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The query's rows through ``matching.core`` and through SQLAlchemy's result."""
    with db.read() as session:
        fast = [tuple(row) for row in matching.core(session, query)]
        usual = [tuple(row) for row in session.connection().execute(query)]
    return fast, usual


def test_a_pass_reads_rows_as_sqlalchemy_would(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(client, store, BROWSE)
    ann = track(
        runtime, store.store_id, "ann@rows.io", "Viewed Product", at=clock.now,
        properties={"sku": "A", "price": 29.99},
    )  # fmt: skip
    flow_worker.drain()
    dialect = db.engine.dialect.name
    with db.read() as session:
        [run_id] = session.scalars(select(FlowRun.id).where(FlowRun.flow_id == flow)).all()

    heads, expected = _both(db, triggers._active_query(dialect, [flow], [ann]))
    assert heads == expected
    [head] = map(triggers._Head._make, heads)
    assert (head.id, head.contact_id, head.slot, head.state, head.wait) == (
        run_id, ann, "A", "active", "timer",
    )  # fmt: skip
    assert head.trigger_at.tzinfo is UTC and head.updated_at.tzinfo is UTC

    whole, expected = _both(
        db, select(*triggers._READ).where(FlowRun.id == run_id).order_by(FlowRun.id)
    )
    assert whole == expected
    [run] = map(engine.stored_run, whole)
    assert run.waiting == {"kind": "timer"} and run.test is False
    assert run.trigger["source"] == "event" and run.deadline is not None
    assert run.deadline.tzinfo is UTC

    starts, expected = _both(db, triggers._starts_query(dialect, [flow], [ann]))
    assert starts == expected
    assert [(f, c, k) for f, c, k, _ in starts] == [(flow, ann, "A")]

    contacts, expected = _both(
        db, select(Contact.id, Contact.deleted_at, Contact.timezone).where(Contact.id == ann)
    )
    assert contacts == expected == [(ann, None, None)]
