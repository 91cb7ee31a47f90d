"""commerce: categories, products, orders and their lines, carts, customer subscriptions

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cartwheel.models.base

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["categories.id"],
            name=op.f("fk_categories_parent_id_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_categories_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("store_id", "url", name=op.f("uq_categories_store_id_url")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index("ix_categories_store_parent", ["store_id", "parent_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column(
            "images", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "options", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "variants", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "subscription", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("file", sa.String(length=2000), nullable=True),
        sa.Column("created_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("synced_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_products_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint(
            "store_id", "external_id", name=op.f("uq_products_store_id_external_id")
        ),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_store_url", ["store_id", "url"], unique=False)

    op.create_table(
        "customer_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("platform_status", sa.String(length=50), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("plan", sa.String(length=300), nullable=True),
        sa.Column("plan_id", sa.String(length=300), nullable=True),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("interval", sa.String(length=20), nullable=True),
        sa.Column("interval_count", sa.Integer(), nullable=True),
        sa.Column(
            "items", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "next_payment_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("started_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("renewed_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_customer_subscriptions_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_customer_subscriptions_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_subscriptions")),
        sa.UniqueConstraint(
            "store_id", "external_id", name=op.f("uq_customer_subscriptions_store_id_external_id")
        ),
    )
    with op.batch_alter_table("customer_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_subscriptions_store_contact", ["store_id", "contact_id"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=True),
        sa.Column("invoice_no", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("customer_name", sa.String(length=300), nullable=True),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column(
            "billing_address",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "shipping_address",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("shipping_required", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("weight_unit", sa.String(length=8), nullable=False),
        sa.Column("sub_total", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=True),
        sa.Column("discount_code", sa.String(length=200), nullable=True),
        sa.Column("discount_type", sa.String(length=32), nullable=True),
        sa.Column("discount_amount", sa.Float(), nullable=False),
        sa.Column("shipping_name", sa.String(length=300), nullable=True),
        sa.Column("shipping_amount", sa.Float(), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("payment_method", sa.String(length=100), nullable=True),
        sa.Column("transaction_id", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("platform_status", sa.String(length=50), nullable=True),
        sa.Column(
            "taxes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column(
            "additional_fields",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "notes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "fulfillment", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("synced_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_orders_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_orders_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("store_id", "external_id", name=op.f("uq_orders_store_id_external_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_store_contact", ["store_id", "contact_id"], unique=False)
        batch_op.create_index("ix_orders_store_created", ["store_id", "created_at"], unique=False)

    op.create_table(
        "product_categories",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_product_categories_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_categories_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "category_id", name=op.f("pk_product_categories")),
    )
    with op.batch_alter_table("product_categories", schema=None) as batch_op:
        batch_op.create_index("ix_product_categories_category", ["category_id"], unique=False)

    op.create_table(
        "carts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "items", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("total_products", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("abandoned_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("converted_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cartwheel.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_carts_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_carts_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_carts_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
        sa.UniqueConstraint("store_id", "external_id", name=op.f("uq_carts_store_id_external_id")),
    )
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_carts_store_contact_status", ["store_id", "contact_id", "status"], unique=False
        )

    op.create_table(
        "order_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("product_external_id", sa.String(length=300), nullable=True),
        sa.Column("variant_external_id", sa.String(length=300), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("sku", sa.String(length=200), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("width", sa.Float(), nullable=False),
        sa.Column("height", sa.Float(), nullable=False),
        sa.Column("length", sa.Float(), nullable=False),
        sa.Column("shipping_required", sa.Boolean(), nullable=False),
        sa.Column(
            "variation", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "additions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_items_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_order_items_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_order_items_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index("ix_order_items_order", ["order_id", "position"], unique=False)
        batch_op.create_index(
            "ix_order_items_store_product_external",
            ["store_id", "product_external_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_index("ix_order_items_store_product_external")
        batch_op.drop_index("ix_order_items_order")

    op.drop_table("order_items")
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.drop_index("ix_carts_store_contact_status")

    op.drop_table("carts")
    with op.batch_alter_table("product_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_product_categories_category")

    op.drop_table("product_categories")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_store_created")
        batch_op.drop_index("ix_orders_store_contact")

    op.drop_table("orders")
    with op.batch_alter_table("customer_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_subscriptions_store_contact")

    op.drop_table("customer_subscriptions")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_store_url")

    op.drop_table("products")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index("ix_categories_store_parent")

    op.drop_table("categories")
