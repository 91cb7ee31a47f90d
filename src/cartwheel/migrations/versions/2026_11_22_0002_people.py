"""people: members, member groups, single sign-on keys and tokens, form submissions, bookings,
subscriber lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cartwheel.models.base

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by hand to match the models exactly (same types, the metadata's naming
# convention); only the people-side tables, as an independent branch off 0001.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DATETIME = cartwheel.models.base.UTCDateTime(timezone=True)


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["store_id"], ["stores.id"], name=op.f(f"fk_{table}_store_id_stores"), ondelete="CASCADE"
    )


def _contact_fk(table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["contact_id"],
        ["contacts.id"],
        name=op.f(f"fk_{table}_contact_id_contacts"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "member_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("updated_at", DATETIME, nullable=False),
        _store_fk("member_groups"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_groups")),
    )
    op.create_index("ix_member_groups_store", "member_groups", ["store_id", "id"])

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("billing_address", JSON, nullable=True),
        sa.Column("shipping_address", JSON, nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("updated_at", DATETIME, nullable=False),
        _contact_fk("members", "SET NULL"),
        _store_fk("members"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("store_id", "email", name=op.f("uq_members_store_id_email")),
    )
    op.create_index("ix_members_contact", "members", ["contact_id"])

    op.create_table(
        "member_group_members",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["member_groups.id"],
            name=op.f("fk_member_group_members_group_id_member_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_group_members_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "group_id", name=op.f("pk_member_group_members")),
    )
    op.create_index("ix_member_group_members_group", "member_group_members", ["group_id"])

    op.create_table(
        "member_sso_keys",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        _store_fk("member_sso_keys"),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_member_sso_keys")),
    )

    op.create_table(
        "member_sso_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("expires_at", DATETIME, nullable=False),
        sa.Column("used_at", DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_sso_tokens_member_id_members"),
            ondelete="CASCADE",
        ),
        _store_fk("member_sso_tokens"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_sso_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_member_sso_tokens_token_hash")),
    )
    op.create_index("ix_member_sso_tokens_member", "member_sso_tokens", ["member_id"])

    op.create_table(
        "form_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("form_name", sa.String(length=200), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("origin", sa.String(length=500), nullable=True),
        sa.Column("received_at", DATETIME, nullable=False),
        _contact_fk("form_submissions", "SET NULL"),
        _store_fk("form_submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submissions")),
    )
    op.create_index(
        "ix_form_submissions_store_received", "form_submissions", ["store_id", "received_at"]
    )

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        # The store's own event id, not a Cartwheel row: 64-bit.
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("start_at", DATETIME, nullable=False),
        sa.Column("end_at", DATETIME, nullable=False),
        sa.Column("event_data", JSON, nullable=True),
        sa.Column("operator", JSON, nullable=True),
        sa.Column("service", JSON, nullable=True),
        sa.Column("form_answers", JSON, nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        _contact_fk("bookings", "SET NULL"),
        _store_fk("bookings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    op.create_index("ix_bookings_store_start", "bookings", ["store_id", "start_at"])
    op.create_index("ix_bookings_store_event", "bookings", ["store_id", "event_id"])

    op.create_table(
        "subscriber_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("updated_at", DATETIME, nullable=False),
        _store_fk("subscriber_lists"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber_lists")),
    )
    op.create_index("ix_subscriber_lists_store", "subscriber_lists", ["store_id", "id"])

    op.create_table(
        "subscriber_list_contacts",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        _contact_fk("subscriber_list_contacts", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["subscriber_lists.id"],
            name=op.f("fk_subscriber_list_contacts_list_id_subscriber_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "contact_id", name=op.f("pk_subscriber_list_contacts")),
    )
    op.create_index(
        "ix_subscriber_list_contacts_contact", "subscriber_list_contacts", ["contact_id"]
    )


def downgrade() -> None:
    for table, indexes in (
        ("subscriber_list_contacts", ["ix_subscriber_list_contacts_contact"]),
        ("subscriber_lists", ["ix_subscriber_lists_store"]),
        ("bookings", ["ix_bookings_store_event", "ix_bookings_store_start"]),
        ("form_submissions", ["ix_form_submissions_store_received"]),
        ("member_sso_tokens", ["ix_member_sso_tokens_member"]),
        ("member_sso_keys", []),
        ("member_group_members", ["ix_member_group_members_group"]),
        ("members", ["ix_members_contact"]),
        ("member_groups", ["ix_member_groups_store"]),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
