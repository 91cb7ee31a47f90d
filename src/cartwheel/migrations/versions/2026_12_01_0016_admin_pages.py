"""admin pages: two indexes on messages for the back office's pages

``ix_messages_store_created`` (store_id, created_at, status): the overview's message
delivery counts a store's messages of the last hour, day and week by status from the index
alone (without it, every message row of the store is read: 0.6 s for 200,000 messages).
``ix_messages_store_contact`` (store_id, contact_id): a contact's messages (the profile,
``GET /v1/messages?contactId=``); with the store's index alone SQLite walks every message
of the store to find one contact's.

Revision ID: 0016
Revises: 0012_messages
Create Date: 2026-12-01 20:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0012_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_store_created", "messages", ["store_id", "created_at", "status"])
    op.create_index("ix_messages_store_contact", "messages", ["store_id", "contact_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_store_contact", table_name="messages")
    op.drop_index("ix_messages_store_created", table_name="messages")
