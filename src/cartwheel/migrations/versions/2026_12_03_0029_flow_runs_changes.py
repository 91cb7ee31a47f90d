"""flow runs (SQLite): a count of the changes to existing runs, kept by triggers

On SQLite a worker pass plans its flows in a read transaction and writes the plan in the
write transaction that follows, after checking that nothing the plan read changed
meanwhile (``flows/triggers.py``, ``_unchanged``). Re-reading every active run of the
pass's contacts for that check was a tenth of the worker's time under the flows bench.
``flow_runs_changes`` holds one number that every UPDATE or DELETE of a run adds one to
(a trigger per statement's row): when it is the same in both transactions, no run changed
in between, and the check reads that one row. A new run raises the table's highest id,
which the check compares already. PostgreSQL plans in the write transaction and has
neither table nor triggers.

A later migration that rebuilds ``flow_runs`` on SQLite (Alembic's batch mode copies the
table and drops the old one, its triggers with it) must create the triggers again:
``tests/test_migrations.py`` checks that they count at the head of the migrations.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 12:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The trigger per kind of change counted.
TRIGGERS = {"UPDATE": "flow_runs_counted_update", "DELETE": "flow_runs_counted_delete"}


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TABLE flow_runs_changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)"
    )
    op.execute("INSERT INTO flow_runs_changes (id, n) VALUES (1, 0)")
    for change, name in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {change} ON flow_runs "
            "BEGIN UPDATE flow_runs_changes SET n = n + 1 WHERE id = 1; END"
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for name in TRIGGERS.values():
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE flow_runs_changes")
