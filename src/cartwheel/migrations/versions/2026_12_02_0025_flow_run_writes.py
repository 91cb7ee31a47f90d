"""flow runs: drop the flow's foreign key and the key index, both paid for per run written

``flow_runs.flow_id`` → ``flows``: flows are never deleted (a deleted flow keeps its row,
``deleted_at``); a store's removal reaches its runs through their contacts, whose key
cascades. On PostgreSQL the check was a trigger per run that share-locked the flow's row
(every run of a live flow locks the same one).

``ix_flow_runs_key (flow_id, contact_id, key, started_at)``: re-entry's read of a contact's
last start per key finds the contact's runs in the flow through another index on the pair
(``uq_flow_runs_slot`` in SQLite's plan, ``ix_flow_runs_contact`` in PostgreSQL's), as
every other read of a contact's runs does.

On SQLite dropping a foreign key rebuilds the table (Alembic's batch mode);
``cartwheel.migrate.run`` turns foreign keys off for that.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_flow_runs_key", table_name="flow_runs")
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_constraint("fk_flow_runs_flow_id_flows", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("flow_runs") as batch:
        batch.create_foreign_key(
            "fk_flow_runs_flow_id_flows", "flows", ["flow_id"], ["id"], ondelete="CASCADE"
        )
    op.create_index("ix_flow_runs_key", "flow_runs", ["flow_id", "contact_id", "key", "started_at"])
