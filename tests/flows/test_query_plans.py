"""A worker pass reaches its runs through the index made for it, never through every run:

- on SQLite (``EXPLAIN QUERY PLAN`` of a migrated database whose statistics an operator has
  gathered with ``ANALYZE``), its contacts' runs (and the run of each key it may start
  again) through the contacts' index: ordered by the
  run's key, SQLite's planner walked the whole ``flow_runs`` table in key order in every
  pass (55 ms against 3 for 1,500 contacts among 100,000 runs);
- on PostgreSQL, whose statistics lag a fast-growing table (autovacuum analyzes it at
  most once a minute), with statistics taken while every run had finished: its contacts'
  runs (and the run of each key it may start again) through the contacts' index, and the
  runs it refreshes by id, matched to their new values by a hash. With "still active"
  compared as a column, the refresh read every
  active run through an index led by the flow, once per run it wrote (2,000 runs among
  20,000 active: 1.6 s against 34 ms; under the flows bench, loads whose worker fell 13-18
  s behind); compared as an expression, it compared each run read with each row written
  (1,400 among 150,000: 219 ms against 30). Other plans follow the statistics and are
  checked by hand (docs/performance.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, insert

from cartwheel.db import Database
from cartwheel.flows import engine, triggers
from cartwheel.migrate import migrate
from cartwheel.models import Contact, FlowRun
from cartwheel.models.base import utcnow, uuid7
from cartwheel.stores import service as stores


def plan(db: Database, query: Select[object]) -> list[str]:
    text = str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        return [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {text}")]


def store_with_contacts(db: Database, count: int) -> tuple[int, list[int]]:
    """A new store and the ids of ``count`` new contacts of it, in order."""
    with db.transaction() as session:
        store_id = stores.create_store(session, "plans").store_id
        contacts = list(
            session.execute(
                insert(Contact).returning(Contact.id),
                [{"store_id": store_id, "uuid": uuid7()} for _ in range(count)],
            ).scalars()
        )
    return store_id, contacts


def test_a_pass_reads_its_contacts_runs_through_their_index(tmp_path: Path) -> None:
    """Its active runs, and the last starts re-entry reads."""
    db = Database(f"sqlite:///{tmp_path / 'plans.db'}")
    migrate(db.engine)
    now = utcnow()
    store_id, contacts = store_with_contacts(db, 10_000)
    with db.transaction() as session:
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
        slots = plan(db, triggers._slots_query("sqlite", [(1, c, "k") for c in contacts[:1000]]))
    finally:
        db.dispose()
    for steps in (active, starts):
        assert steps[0] == "SEARCH flow_runs USING INDEX uq_flow_runs_slot (contact_id=?)"
        assert not any(step.startswith("SCAN flow_runs") for step in steps)
    # The keys' runs: the keys' list read once, each key's run found in the unique index.
    assert slots == [
        "SCAN json_each VIRTUAL TABLE INDEX 1:",
        "SEARCH flow_runs USING INDEX uq_flow_runs_slot (contact_id=? AND flow_id=? AND slot=?)",
    ]


def relations(plan: dict[str, Any], table: str) -> Iterator[tuple[str, str | None]]:
    """Each (scan, index) by which a PostgreSQL plan (``FORMAT JSON``) reads ``table``."""
    if plan.get("Relation Name") == table and plan["Node Type"].endswith("Scan"):
        yield plan["Node Type"], plan.get("Index Name")
    for child in plan.get("Plans", []):
        yield from relations(child, table)


def join_filters(plan: dict[str, Any]) -> Iterator[str]:
    """Each join's condition a PostgreSQL plan checks for every pair of rows it joins."""
    if "Join Filter" in plan:
        yield plan["Join Filter"]
    for child in plan.get("Plans", []):
        yield from join_filters(child)


def explain(db: Database, statement: str, params: Any) -> dict[str, Any]:
    with db.engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", params)
        (document,) = cursor.fetchone()
        connection.rollback()
    found = document if isinstance(document, list) else json.loads(document)
    plan: dict[str, Any] = found[0]["Plan"]
    return plan


def compiled(db: Database, query: Select[Any]) -> tuple[str, dict[str, Any]]:
    text = query.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    return str(text), text.params


#: ``count`` runs of five flows among ``contacts`` contacts, in ``state``: %(name)s
#: parameters store, first contact, contacts, count, state, now.
RUNS = """
INSERT INTO flow_runs (store_id, flow_id, version, contact_id, key, slot, state, seq,
                       trigger_at, "trigger", test, started_at, updated_at)
SELECT %(store)s, 1 + n %% 5, 1, %(first)s + n %% %(contacts)s, %(state)s || n,
       CASE WHEN %(state)s = 'active' THEN %(state)s || n END, %(state)s, 0,
       %(now)s, '{}', false, %(now)s, %(now)s
FROM generate_series(1, %(count)s) AS n
"""


def test_postgresql_reaches_a_pass_runs_by_id_after_statistics_of_finished_runs(
    fresh_postgres: str,
) -> None:
    """At the flows bench's scale: 150,000 active runs, a pass refreshing 1,400 of them."""
    db = Database(fresh_postgres)
    migrate(db.engine)
    now = utcnow()
    try:
        store_id, contacts = store_with_contacts(db, 10_000)
        runs = {"store": store_id, "first": contacts[0], "contacts": len(contacts), "now": now}
        with db.engine.begin() as connection:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(RUNS, {**runs, "state": "done", "count": 2_000})
            # The statistics of a table whose runs had all finished (autovacuum's last
            # look); then the flows' runs grow.
            cursor.execute("ANALYZE flow_runs")
            cursor.execute(RUNS, {**runs, "state": engine.ACTIVE, "count": 150_000})
            cursor.execute("SELECT id FROM flow_runs WHERE state = 'active' ORDER BY id LIMIT 1400")
            refreshed = [
                SimpleNamespace(
                    id=run_id, trigger_at=now, trigger={}, updated_at=now, state=engine.ACTIVE
                )
                for (run_id,) in cursor.fetchall()
            ]
        statement, params = engine._update_from_json(
            engine._RUNS, engine._REFRESH_COLUMNS, refreshed, active=True
        )
        refresh = explain(db, statement, params[0])
        heads = explain(
            db,
            *compiled(db, triggers._active_query("postgresql", [1, 2, 3, 4, 5], contacts[:1000])),
        )
        starts = explain(
            db, *compiled(db, triggers._starts_query("postgresql", [1], contacts[:1000]))
        )
        keyed = [(1 + n % 5, c, f"active{n}") for n, c in enumerate(contacts[:1000])]
        slots = explain(db, *compiled(db, triggers._slots_query("postgresql", keyed)))
    finally:
        db.dispose()
    # The refreshed runs by id, each matched to its row by a hash: neither every active run
    # through an index led by the flow, nor each run compared with each row.
    assert list(relations(refresh, "flow_runs")) == [("Index Scan", "pk_flow_runs")]
    assert not list(join_filters(refresh))
    for reads in (heads, starts, slots):
        assert list(relations(reads, "flow_runs")) == [("Index Scan", "uq_flow_runs_slot")]
