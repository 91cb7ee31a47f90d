"""Migration 0026, down and up again, on both engines, on a database of its own: the event
log's queue moves from ``events.processed_at`` to ``pending_events`` and back, and the
events pending on either side stay pending, the others processed."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import select, text

from cartwheel.db import Database
from cartwheel.migrate import migrate, run
from cartwheel.models import Event, PendingEvent
from cartwheel.models.base import uuid7
from cartwheel.stores import service as stores
from cartwheel.worker.queue import process_events
from tests.worker.conftest import own_db  # noqa: F401  (the fixture: a database of its own)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_pending_events_stay_pending_through_a_downgrade_and_back(own_db: Database) -> None:  # noqa: F811
    done, waiting = uuid7(), uuid7()
    with own_db.transaction() as session:
        store_id = stores.create_store(session, "migrations").store_id
        for id_, name in ((done, "done"), (waiting, "waiting")):
            session.add(Event(id=id_, store_id=store_id, name=name, occurred_at=NOW))
        session.flush()
        session.add(PendingEvent(id=waiting, store_id=store_id))

    run(own_db.engine, lambda config: command.downgrade(config, "0025"))
    with own_db.read() as session:
        rows = session.execute(text("SELECT name, processed_at IS NULL FROM events")).all()
        marks = {name: pending for name, pending in rows}
        indexes = session.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'events'")
            if own_db.engine.dialect.name == "postgresql"
            else text("SELECT name FROM sqlite_master WHERE tbl_name = 'events'")
        ).scalars()
        assert "ix_events_pending" in set(indexes)
    assert {name: bool(pending) for name, pending in marks.items()} == {
        "done": False,
        "waiting": True,
    }

    migrate(own_db.engine)
    with own_db.read() as session:
        assert session.scalars(select(PendingEvent.id)).all() == [waiting]
    seen: list[str] = []
    assert process_events(own_db, [lambda _session, event: seen.append(event.name)], 10) == 1
    assert seen == ["waiting"]
    with own_db.read() as session:
        assert session.scalars(select(PendingEvent.id)).all() == []
