"""flow figures: indexes that let a flow's page count from indexes alone

``ix_flow_runs_figures`` (flow_id, test, state, step): a flow's runs by state, its active
runs by step and its run total, test runs left out, without reading a run.
``ix_flow_runs_flow_id`` (flow_id, id, store_id) and ``ix_flow_runs_flow_state`` now
(flow_id, state, id, store_id): a flow's runs newest first, all or in one state, the store
check and the count read from the index (before, every run was sorted for the first page of
all runs, and every skipped or counted run was read for its store).
``ix_flow_run_steps_flow_step`` now (flow_id, step, status, reason): the step log grouped
for the stats from the index alone.

Revision ID: 0021
Revises: 0015_flows
Create Date: 2026-12-01 21:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0015_flows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_flow_runs_flow_state", table_name="flow_runs")
    op.create_index("ix_flow_runs_flow_state", "flow_runs", ["flow_id", "state", "id", "store_id"])
    op.create_index("ix_flow_runs_flow_id", "flow_runs", ["flow_id", "id", "store_id"])
    op.create_index("ix_flow_runs_figures", "flow_runs", ["flow_id", "test", "state", "step"])
    op.drop_index("ix_flow_run_steps_flow_step", table_name="flow_run_steps")
    op.create_index(
        "ix_flow_run_steps_flow_step", "flow_run_steps", ["flow_id", "step", "status", "reason"]
    )


def downgrade() -> None:
    op.drop_index("ix_flow_run_steps_flow_step", table_name="flow_run_steps")
    op.create_index("ix_flow_run_steps_flow_step", "flow_run_steps", ["flow_id", "step", "status"])
    op.drop_index("ix_flow_runs_figures", table_name="flow_runs")
    op.drop_index("ix_flow_runs_flow_id", table_name="flow_runs")
    op.drop_index("ix_flow_runs_flow_state", table_name="flow_runs")
    op.create_index("ix_flow_runs_flow_state", "flow_runs", ["flow_id", "state", "id"])
