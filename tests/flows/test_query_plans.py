"""The reads a worker pass makes of its contacts' runs go through the contacts' index on
SQLite (``EXPLAIN QUERY PLAN`` of a migrated database whose statistics an operator has
gathered with ``ANALYZE``), never through every run: ordered by the run's key, SQLite's
planner then walked the whole ``flow_runs`` table in key order in every pass (55 ms
against 3 for 1,500 contacts among 100,000 runs). PostgreSQL's plans follow statistics
that change with the table and are checked by hand (docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Select, insert

from cartwheel.db import Database
from cartwheel.flows import triggers
from cartwheel.migrate import migrate
from cartwheel.models import Contact, FlowRun
from cartwheel.models.base import utcnow, uuid7
from cartwheel.stores import service as stores


def plan(db: Database, query: Select[object]) -> list[str]:
    text = str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        return [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {text}")]


def test_a_pass_reads_its_contacts_runs_through_their_index(tmp_path: Path) -> None:
    """Its active runs, and the last starts re-entry reads."""
    db = Database(f"sqlite:///{tmp_path / 'plans.db'}")
    migrate(db.engine)
    now = utcnow()
    with db.transaction() as session:
        store_id = stores.create_store(session, "plans").store_id
        contacts = list(
            session.execute(
                insert(Contact).returning(Contact.id),
                [{"store_id": store_id, "uuid": uuid7()} for _ in range(10_000)],
            ).scalars()
        )
        session.execute(
            insert(FlowRun),
            [
                {
                    "store_id": store_id,
                    "flow_id": flow_id,
                    "version": 1,
                    "contact_id": contact_id,
                    "trigger_at": now,
                    "started_at": now,
                }
                for contact_id in contacts
                for flow_id in (1, 2)
            ],
        )
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    try:
        # A pass's contacts: a few of the store's (here 1,000 of 10,000).
        active = plan(db, triggers._active_query("sqlite", [1, 2], contacts[:1000]))
        starts = plan(db, triggers._starts_query("sqlite", [1], contacts[:1000]))
    finally:
        db.dispose()
    for steps in (active, starts):
        assert steps[0] == "SEARCH flow_runs USING INDEX uq_flow_runs_slot (contact_id=?)"
        assert not any(step.startswith("SCAN flow_runs") for step in steps)
