"""flows: definitions, published versions, runs and their step log

Revision ID: 0015_flows
Revises: 0001
Create Date: 2026-12-01 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cartwheel.models.base

revision: str = "0015_flows"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DATETIME = cartwheel.models.base.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("definition", _JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("mentions", _JSON, nullable=False),
        sa.Column("date_cursor", sa.String(length=10), nullable=True),
        sa.Column("created_at", _DATETIME, nullable=False),
        sa.Column("updated_at", _DATETIME, nullable=False),
        sa.Column("deleted_at", _DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_flows_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
    )
    op.create_index("ix_flows_store", "flows", ["store_id", "id"])
    op.create_table(
        "flow_versions",
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", _JSON, nullable=False),
        sa.Column("published_at", _DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["flows.id"],
            name=op.f("fk_flow_versions_flow_id_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flow_id", "version", name=op.f("pk_flow_versions")),
    )
    op.create_table(
        "flow_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("slot", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("step_at", _DATETIME, nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("waiting", _JSON, nullable=True),
        sa.Column("deadline", _DATETIME, nullable=True),
        sa.Column("wake_at", _DATETIME, nullable=True),
        sa.Column("trigger_at", _DATETIME, nullable=False),
        sa.Column("trigger", _JSON, nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("started_at", _DATETIME, nullable=False),
        sa.Column("updated_at", _DATETIME, nullable=False),
        sa.Column("finished_at", _DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_flow_runs_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flows.id"], name=op.f("fk_flow_runs_flow_id_flows"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_flow_runs_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_runs")),
    )
    op.create_index(
        "uq_flow_runs_slot", "flow_runs", ["flow_id", "contact_id", "slot"], unique=True
    )
    op.create_index("ix_flow_runs_flow_state", "flow_runs", ["flow_id", "state", "id"])
    op.create_index("ix_flow_runs_contact", "flow_runs", ["contact_id", "flow_id"])
    op.create_index(
        "ix_flow_runs_wake",
        "flow_runs",
        ["wake_at"],
        postgresql_where=sa.text("wake_at IS NOT NULL"),
        sqlite_where=sa.text("wake_at IS NOT NULL"),
    )
    op.create_index("ix_flow_runs_key", "flow_runs", ["flow_id", "contact_id", "key", "started_at"])
    op.create_table(
        "flow_run_steps",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("flow_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("detail", _JSON, nullable=False),
        sa.Column("entered_at", _DATETIME, nullable=False),
        sa.Column("finished_at", _DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["flow_runs.id"],
            name=op.f("fk_flow_run_steps_run_id_flow_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["flows.id"],
            name=op.f("fk_flow_run_steps_flow_id_flows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name=op.f("pk_flow_run_steps")),
    )
    op.create_index("ix_flow_run_steps_flow_step", "flow_run_steps", ["flow_id", "step", "status"])


def downgrade() -> None:
    op.drop_index("ix_flow_run_steps_flow_step", table_name="flow_run_steps")
    op.drop_table("flow_run_steps")
    for name in (
        "ix_flow_runs_key",
        "ix_flow_runs_wake",
        "ix_flow_runs_contact",
        "ix_flow_runs_flow_state",
        "uq_flow_runs_slot",
    ):
        op.drop_index(name, table_name="flow_runs")
    op.drop_table("flow_runs")
    op.drop_table("flow_versions")
    op.drop_index("ix_flows_store", table_name="flows")
    op.drop_table("flows")
