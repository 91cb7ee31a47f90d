"""queue failures: per-handler retries and dead letters of the event log and the outbox

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-01 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cartwheel.models.base

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("handler", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column(
            "next_attempt_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_attempt_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("failed_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_queue_failures_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_failures")),
    )
    with op.batch_alter_table("queue_failures", schema=None) as batch_op:
        batch_op.create_index(
            "uq_queue_failures_row_handler", ["queue", "row_id", "handler"], unique=True
        )
        batch_op.create_index("ix_queue_failures_store", ["store_id", "id"], unique=False)
        batch_op.create_index(
            "ix_queue_failures_due",
            ["queue", "next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("queue_failures", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_queue_failures_due",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_queue_failures_store")
        batch_op.drop_index("uq_queue_failures_row_handler")
    op.drop_table("queue_failures")
