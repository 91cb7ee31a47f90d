"""Migrations 0023 to 0027, down and up again, on both engines, on a database of its own.

0023: the visit a run waits in leaves the step log for the run's own columns (its row is
written when the visit ends); the downgrade writes those rows back, as the engine before it
had them. 0024 and 0025 drop foreign keys, which on SQLite rebuilds ``flow_runs`` both ways:
the step log's rows, which cascade from their runs, must come through it. 0027 builds the
one-active-run-per-key index again, contact first: the waiting run's slot comes through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.migrate import migrate, run
from cartwheel.models import Contact, Flow, FlowRun, FlowRunStep, FlowVersion
from cartwheel.models.base import uuid7
from cartwheel.stores import service as stores
from tests.flows.helpers import BROWSE
from tests.worker.conftest import own_db  # noqa: F401  (the fixture: a database of its own)

NOW = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def _downgrade(db: Database, revision: str) -> None:
    run(db.engine, lambda config: command.downgrade(config, revision))


def _log(db: Database) -> list[tuple[int, int, str, str, str, dict[str, object], datetime]]:
    with db.read() as session:
        return [
            (s.run_id, s.seq, s.step, s.type, s.status, s.detail, s.entered_at)
            for s in session.scalars(
                select(FlowRunStep).order_by(FlowRunStep.run_id, FlowRunStep.seq)
            )
        ]


def test_waiting_visits_go_to_their_runs_and_come_back_on_downgrade(own_db: Database) -> None:  # noqa: F811
    deadline = NOW + timedelta(hours=1)
    with own_db.transaction() as session:
        store_id = stores.create_store(session, "migrations").store_id
        ann = Contact(store_id=store_id, uuid=uuid7(), email="ann@migrate.io")
        flow = Flow(store_id=store_id, name="Browse", definition=BROWSE, state="live", version=1)
        session.add_all([ann, flow])
        session.flush()
        session.add(FlowVersion(flow_id=flow.id, version=1, definition=BROWSE, published_at=NOW))
        common = {
            "store_id": store_id, "flow_id": flow.id, "version": 1, "contact_id": ann.id,
            "trigger_at": NOW, "started_at": NOW, "updated_at": NOW,
        }  # fmt: skip
        waiting = FlowRun(
            **common, key="A", slot="A", state="active", step="wait", step_at=NOW, seq=1,
            waiting={"kind": "timer"}, deadline=deadline, wake_at=deadline,
        )  # fmt: skip
        done = FlowRun(**common, key="B", state="done", step="end", step_at=NOW, seq=2)
        session.add_all([waiting, done])
        session.flush()
        finished = [
            FlowRunStep(
                run_id=done.id, seq=1, flow_id=flow.id, step="wait", type="wait", status="done",
                detail={"until": deadline.isoformat()}, entered_at=NOW, finished_at=NOW,
            ),
            FlowRunStep(
                run_id=done.id, seq=2, flow_id=flow.id, step="end", type="exit", status="done",
                detail={}, entered_at=NOW, finished_at=NOW,
            ),
        ]  # fmt: skip
        session.add_all(finished)
    ended = [
        (done.id, 1, "wait", "wait", "done", {"until": deadline.isoformat()}, NOW),
        (done.id, 2, "end", "exit", "done", {}, NOW),
    ]
    assert _log(own_db) == ended

    _downgrade(own_db, "0021")
    restored = (waiting.id, 1, "wait", "wait", "waiting", {"until": deadline.isoformat()}, NOW)
    assert _log(own_db) == sorted([*ended, restored])

    migrate(own_db.engine)
    assert _log(own_db) == ended
    if own_db.engine.dialect.name == "sqlite":  # the keys are on again for the app
        with own_db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
