"""message figures: indexes for a campaign's figures, its messages, the log by status and
the overview's delivery counts

``ix_messages_campaign_figures`` (campaign_id, status, opened_at, clicked_at,
unsubscribed_at) replaces ``ix_messages_campaign`` (campaign_id), its prefix: a campaign's
sent, opened, clicked… figures are counted from the index alone (without it, every message
row of the campaign is read, 1.5 KB of HTML each). ``ix_messages_store_campaign``
(store_id, campaign_id, id): a campaign's messages newest first, counted and paged along the
index. ``ix_messages_store_status`` (store_id, status, id): the message log filtered by
status, likewise. ``ix_messages_store_status_created`` (store_id, status, created_at)
replaces 0016's ``ix_messages_store_created`` (store_id, created_at, status): the overview
counts each status's messages since a moment as a range of the index, where 0016's index
gave the week's entries in time order, sorted again by status (0.6 s for 200,000).

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-01 21:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_messages_campaign_figures",
        "messages",
        ["campaign_id", "status", "opened_at", "clicked_at", "unsubscribed_at"],
    )
    op.drop_index("ix_messages_campaign", table_name="messages")
    op.create_index("ix_messages_store_campaign", "messages", ["store_id", "campaign_id", "id"])
    op.create_index("ix_messages_store_status", "messages", ["store_id", "status", "id"])
    op.create_index(
        "ix_messages_store_status_created", "messages", ["store_id", "status", "created_at"]
    )
    op.drop_index("ix_messages_store_created", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_store_created", "messages", ["store_id", "created_at", "status"])
    op.drop_index("ix_messages_store_status_created", table_name="messages")
    op.drop_index("ix_messages_store_status", table_name="messages")
    op.drop_index("ix_messages_store_campaign", table_name="messages")
    op.create_index("ix_messages_campaign", "messages", ["campaign_id"])
    op.drop_index("ix_messages_campaign_figures", table_name="messages")
