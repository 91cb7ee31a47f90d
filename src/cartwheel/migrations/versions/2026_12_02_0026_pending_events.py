"""the event log's queue as a table of its own: ``pending_events``, not ``events.processed_at``

An event the worker has yet to process has a row in ``pending_events`` (written beside the
event by the ingest writer, deleted by the pass that processes it), instead of a NULL
``processed_at`` that the pass then set: that rewrote the event's wide row and an entry in
each of the log's indexes (the pending index's predicate names the column, so PostgreSQL
could never make it a HOT update). ``events.processed_at`` and ``ix_events_pending`` go;
the events pending at the upgrade are queued; a downgrade marks every event not queued as
processed at the downgrade's time. The queue's rows have no foreign key to their events
(see ``cartwheel.models.PendingEvent``).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cartwheel.models.base

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pending_events"),
    )
    op.execute(
        "INSERT INTO pending_events (id, store_id) "
        "SELECT id, store_id FROM events WHERE processed_at IS NULL"
    )
    op.drop_index("ix_events_pending", table_name="events")
    op.drop_column("events", "processed_at")


def downgrade() -> None:
    op.add_column(
        "events",
        sa.Column("processed_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
    )
    # Every event not queued was processed; when is not known any more: the downgrade's time.
    op.execute(
        "UPDATE events SET processed_at = CURRENT_TIMESTAMP "
        "WHERE id NOT IN (SELECT id FROM pending_events)"
    )
    op.create_index(
        "ix_events_pending",
        "events",
        ["id"],
        postgresql_where=sa.text("processed_at IS NULL"),
        sqlite_where=sa.text("processed_at IS NULL"),
    )
    op.drop_table("pending_events")
