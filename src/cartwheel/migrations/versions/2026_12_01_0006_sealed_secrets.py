"""sealed secrets: webhook signing secrets and SSO keys move to text columns that hold them
encrypted under the application key

The values are copied as they are; the first start after this migration encrypts them
(cartwheel/sealing.py ``reseal``), and until then they are read as legacy plain values.
A column is added, filled and the old one dropped (SQLite 3.35+ drops columns natively),
because changing a column's type on SQLite would rebuild the table, and dropping
webhook_subscriptions would cascade to its deliveries.

Revision ID: 0006
Revises: 0002, 0004
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0002", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("webhook_subscriptions", "member_sso_keys")


def upgrade() -> None:
    for table in TABLES:
        # SQLite adds a NOT NULL column only with a default; it is dropped where possible.
        op.add_column(
            table, sa.Column("secret_sealed", sa.Text(), nullable=False, server_default="")
        )
        op.execute(sa.text(f"UPDATE {table} SET secret_sealed = secret"))
        op.drop_column(table, "secret")
        if op.get_context().dialect.name == "postgresql":
            op.alter_column(table, "secret_sealed", server_default=None)


def downgrade() -> None:
    raise NotImplementedError("Secrets encrypted at rest cannot be written back in clear here.")
