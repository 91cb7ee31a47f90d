"""events log: the indexes of GET /v1/events (the store's events newest first: all, by name,
by contact, by lifecycle kind), so every page is an index range however deep the cursor

Revision ID: 0007_events_log
Revises: 0001
Create Date: 2026-12-01 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_events_log"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_events_store_occurred", "events", ["store_id", "occurred_at", "id"], unique=False
    )
    op.create_index(
        "ix_events_store_name_occurred",
        "events",
        ["store_id", "name", "occurred_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_events_store_contact_occurred",
        "events",
        ["store_id", "contact_id", "occurred_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_events_store_kind_occurred",
        "events",
        ["store_id", "category", "action", "occurred_at", "id"],
        unique=False,
        postgresql_where=sa.text("category IS NOT NULL"),
        sqlite_where=sa.text("category IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_store_kind_occurred", table_name="events")
    op.drop_index("ix_events_store_contact_occurred", table_name="events")
    op.drop_index("ix_events_store_name_occurred", table_name="events")
    op.drop_index("ix_events_store_occurred", table_name="events")
