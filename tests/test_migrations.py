"""The migrations build exactly the schema the models describe, on both engines."""

import uuid
from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, insert, inspect, update

from cartwheel.db import Database
from cartwheel.models import Base, Contact, Flow, FlowRun, Store

#: SQLite's count of the changes to runs (migration 0029), kept by triggers: no model's.
_UNMODELLED = {"flow_runs_changes"}


def _modelled(_object: Any, name: str | None, kind: str, _reflected: bool, _to: Any) -> bool:
    return not (kind == "table" and name in _UNMODELLED)


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _modelled})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_sqlite_counts_each_change_to_an_existing_run(db: Database) -> None:
    """Migration 0029: every run updated or deleted adds one (the flows plan's check,
    ``flows/triggers.py``); a new run does not (its id is checked instead). PostgreSQL
    has no such count."""
    with db.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
    if not db.is_sqlite:
        assert "flow_runs_changes" not in tables
        return

    def count() -> int:
        with db.engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT n FROM flow_runs_changes").scalar_one())

    with db.transaction() as session:
        store = Store(name="count")
        session.add(store)
        session.flush()
        flow = Flow(store_id=store.id, name="count", definition={}, state="draft")
        session.add(flow)
        session.flush()
        contact = Contact(store_id=store.id, uuid=uuid.uuid4())
        session.add(contact)
        session.flush()
        ids = (store.id, flow.id, contact.id)
    before = count()
    now = datetime.now(UTC)
    rows = [
        {
            "store_id": ids[0], "flow_id": ids[1], "version": 1, "contact_id": ids[2],
            "key": key, "trigger_at": now, "started_at": now, "updated_at": now,
        }
        for key in ("a", "b", "c")
    ]  # fmt: skip
    with db.transaction() as session:
        session.execute(insert(FlowRun), rows)
    assert count() == before
    with db.transaction() as session:
        mine = FlowRun.flow_id == ids[1]
        session.execute(update(FlowRun).where(mine, FlowRun.key != "c").values(state="done"))
    assert count() == before + 2
    with db.transaction() as session:
        session.execute(delete(FlowRun).where(FlowRun.flow_id == ids[1], FlowRun.key == "c"))
    assert count() == before + 3


def test_flow_runs_keep_room_on_their_pages_for_refreshed_runs(db: Database) -> None:
    """PostgreSQL: ``fillfactor`` 80 (migration 0028), which :func:`compare_metadata` does not
    compare, as the model's ``postgresql_with`` says."""
    assert FlowRun.__table__.dialect_options["postgresql"]["with"] == {"fillfactor": 80}
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect() as connection:
        options = connection.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'flow_runs'"
        ).scalar_one()
    assert options == ["fillfactor=80"]
