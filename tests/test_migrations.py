"""The migrations build exactly the schema the models describe, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cartwheel.db import Database
from cartwheel.models import Base, FlowRun


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


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
