"""flow runs: drop the two foreign keys that only repeat another

``flow_runs.store_id`` → ``stores`` and ``flow_run_steps.flow_id`` → ``flows`` are checked
for every run and visit written (on PostgreSQL a trigger per row that locks the store's or
flow's row), yet what they guard is guarded already: a run's flow and contact belong to its
store, and cascade to it, and a visit's run cascades to the visit. The columns stay (indexes
and every query scoped by store read them).

On SQLite dropping a foreign key rebuilds the table (Alembic's batch mode);
``cartwheel.migrate.run`` turns foreign keys off for that, so rebuilding ``flow_runs`` does
not cascade into the step log.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 07:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_constraint("fk_flow_runs_store_id_stores", type_="foreignkey")
    with op.batch_alter_table("flow_run_steps") as batch:
        batch.drop_constraint("fk_flow_run_steps_flow_id_flows", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("flow_run_steps") as batch:
        batch.create_foreign_key(
            "fk_flow_run_steps_flow_id_flows", "flows", ["flow_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("flow_runs") as batch:
        batch.create_foreign_key(
            "fk_flow_runs_store_id_stores", "stores", ["store_id"], ["id"], ondelete="CASCADE"
        )
