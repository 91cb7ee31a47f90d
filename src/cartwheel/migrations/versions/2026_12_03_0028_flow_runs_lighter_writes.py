"""flow runs: no contact foreign key, and room on PostgreSQL's pages for refreshed runs

``flow_runs.contact_id`` → ``contacts``: contacts are never deleted (a deletion sets
``deleted_at``, a merge keeps the row and moves the runs: ``identity/owned.py``), and the
engine starts a run only for a contact it read in the same transaction. The check was a
trigger per run on PostgreSQL: 6.5 of the 17 µs the server spent per run in a ``COPY`` of
60,000 runs (docs/performance.md, Flows).

``fillfactor = 80`` (PostgreSQL): a later event of a run's key rewrites the run's trigger
columns alone, none of them indexed; with room on the page PostgreSQL writes that version
beside the old one without touching the table's six indexes (a HOT update). Pages written
from now on keep the room.

On SQLite dropping a foreign key rebuilds the table (Alembic's batch mode);
``cartwheel.migrate.run`` turns foreign keys off for that.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 03:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_constraint("fk_flow_runs_contact_id_contacts", type_="foreignkey")
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE flow_runs SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE flow_runs RESET (fillfactor)")
    with op.batch_alter_table("flow_runs") as batch:
        batch.create_foreign_key(
            "fk_flow_runs_contact_id_contacts",
            "contacts",
            ["contact_id"],
            ["id"],
            ondelete="CASCADE",
        )
