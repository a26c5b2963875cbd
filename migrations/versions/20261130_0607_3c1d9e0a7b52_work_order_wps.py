"""Work orders reference the WPS register: a free-text `wps_number` is linked to the approved
revision of that number where one exists (later, approving a WPS links the work orders that name
it; see app/wps/service.py).

Revision ID: 3c1d9e0a7b52
Revises: e6f6a40f4d34
Create Date: 2026-11-30 06:07:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1d9e0a7b52"
down_revision: str | None = "e6f6a40f4d34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("wps_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_work_orders_wps_id"), ["wps_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_work_orders_wps_id_wps"), "wps", ["wps_id"], ["id"]
        )

    wps = sa.table(
        "wps",
        sa.column("id", sa.BigInteger()),
        sa.column("number", sa.String()),
        sa.column("status", sa.String()),
    )
    work_orders = sa.table(
        "work_orders", sa.column("wps_id", sa.BigInteger()), sa.column("wps_number", sa.String())
    )
    approved = (
        sa.select(wps.c.id)
        .where(wps.c.number == work_orders.c.wps_number, wps.c.status == "approved")
        .limit(1)
        .scalar_subquery()
    )
    op.execute(
        work_orders.update()
        .where(work_orders.c.wps_number.is_not(None), work_orders.c.wps_id.is_(None))
        .values(wps_id=approved)
    )


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_work_orders_wps_id_wps"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_work_orders_wps_id"))
        batch_op.drop_column("wps_id")
