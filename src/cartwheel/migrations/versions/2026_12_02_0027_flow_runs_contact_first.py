"""flow runs: one index for a contact's runs and for one active run per key

``uq_flow_runs_slot`` becomes ``(contact_id, flow_id, slot)`` (it was ``(flow_id,
contact_id, slot)``: the same uniqueness) and ``ix_flow_runs_contact (contact_id,
flow_id)``, which it now covers, goes: one index fewer written per run.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_flow_runs_contact", table_name="flow_runs")
    op.drop_index("uq_flow_runs_slot", table_name="flow_runs")
    op.create_index(
        "uq_flow_runs_slot", "flow_runs", ["contact_id", "flow_id", "slot"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_flow_runs_slot", table_name="flow_runs")
    op.create_index(
        "uq_flow_runs_slot", "flow_runs", ["flow_id", "contact_id", "slot"], unique=True
    )
    op.create_index("ix_flow_runs_contact", "flow_runs", ["contact_id", "flow_id"])
