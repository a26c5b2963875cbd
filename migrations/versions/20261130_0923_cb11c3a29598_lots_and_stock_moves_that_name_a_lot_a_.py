"""Lots, and stock moves that name a lot, a work order and a weld

Revision ID: cb11c3a29598
Revises: e4da80b6ed4e
Create Date: 2026-11-30 09:23:12.292960+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "cb11c3a29598"
down_revision: str | None = "e4da80b6ed4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_number", sa.String(length=100), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_lots_lot_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_lots_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("item_id", "lot_number", name=op.f("uq_lots_item_id_lot_number")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lots_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_lot_number"), ["lot_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "work_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "weld_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(
            "ix_stock_movements_lot_id_work_order_id", ["lot_id", "work_order_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stock_movements_weld_id"), ["weld_id"], unique=False)
        batch_op.create_index(
            "ix_stock_movements_work_order_id_lot_id", ["work_order_id", "lot_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_movements_lot_id_lots"),
            "lots",
            ["lot_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_movements_weld_id_welds"), "welds", ["weld_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stock_movements_work_order_id_work_orders"),
            "work_orders",
            ["work_order_id"],
            ["id"],
        )



def downgrade() -> None:
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_stock_movements_work_order_id_work_orders"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_stock_movements_weld_id_welds"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_stock_movements_lot_id_lots"), type_="foreignkey")
        batch_op.drop_index("ix_stock_movements_work_order_id_lot_id")
        batch_op.drop_index(batch_op.f("ix_stock_movements_weld_id"))
        batch_op.drop_index("ix_stock_movements_lot_id_work_order_id")
        batch_op.drop_column("weld_id")
        batch_op.drop_column("work_order_id")
        batch_op.drop_column("lot_id")

    op.drop_table("lots")  # its indexes with it (MariaDB keeps the one its foreign key needs)
