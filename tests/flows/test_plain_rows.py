"""The worker reads its claimed events and a flows pass its runs, contacts and last starts
through ``cartwheel.db.plain_rows``, on PostgreSQL as psycopg's own rows: each read gives
exactly what SQLAlchemy's rows give (ids, text, booleans, moments in UTC, JSON decoded), on
both engines, and a column whose type converts its values (a sealed secret) is read
through SQLAlchemy."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Row, Select, select

from cartwheel.db import Database, plain_rows
from cartwheel.flows import engine, matching, triggers
from cartwheel.models import Contact, Event, FlowRun, WebhookSubscription
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import BROWSE, Clock, publish
from tests.segments.helpers import track


def _both(db: Database, query: Select[Any]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The query's rows through ``matching.core`` (:func:`plain_rows`) and through
    SQLAlchemy's result. On PostgreSQL the first are psycopg's own (every column's type
    reads as SQLAlchemy's does)."""
    with db.read() as session:
        read = list(matching.core(session, query))
        usual = [tuple(row) for row in session.connection().execute(query)]
    expected = tuple if db.engine.dialect.name == "postgresql" else Row
    assert {type(row) for row in read} == {expected}
    return [tuple(row) for row in read], usual


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


def test_events_as_the_worker_claims_them(
    client: TestClient, runtime: Runtime, db: Database, store: StoreFixture, clock: Clock
) -> None:
    track(
        runtime, store.store_id, "bo@rows.io", "Viewed Product", at=clock.now,
        properties={"sku": "B", "price": 9.5},
    )  # fmt: skip
    query = select(
        Event.id, Event.store_id, Event.name, Event.category, Event.silent, Event.contact_id,
        Event.occurred_at, Event.properties, Event.entity, Event.value,
    ).where(Event.store_id == store.store_id)  # fmt: skip
    rows, expected = _both(db, query)
    assert rows == expected
    [(_, _, name, _, silent, _, occurred_at, properties, entity, _)] = rows
    assert (name, silent, entity) == ("Viewed Product", False, None)
    assert properties == {"sku": "B", "price": 9.5}
    assert occurred_at == clock.now and occurred_at.tzinfo is UTC


def test_a_converting_type_is_read_through_sqlalchemy(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    """A webhook's secret is sealed at rest; its rows give the secret, not the sealed text,
    through SQLAlchemy's row on both engines."""
    created = client.post(
        "/v1/webhooks",
        json={"target": "http://127.0.0.1:9/hook", "events": ["order_created"]},
        headers=store.headers,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    query = select(WebhookSubscription.id, WebhookSubscription.secret).where(
        WebhookSubscription.store_id == store.store_id
    )
    with db.read() as session:
        [row] = plain_rows(session.connection(), query)
        assert isinstance(row, Row)
        read = row[1]
        [(_, sealed)] = session.connection().exec_driver_sql(
            "SELECT id, secret_sealed FROM webhook_subscriptions WHERE store_id = %s"
            if db.engine.dialect.name == "postgresql"
            else "SELECT id, secret_sealed FROM webhook_subscriptions WHERE store_id = ?",
            (store.store_id,),
        )
    assert read == secret != sealed
