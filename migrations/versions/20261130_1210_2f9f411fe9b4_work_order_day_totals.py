"""Work-order day totals: the work-order dashboards' figures per created day and key, kept on
write (ADR 0041); counted here from the work orders there are.

Revision ID: 2f9f411fe9b4
Revises: c0a7ecc69161
Create Date: 2026-11-30 12:10:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.work_orders import totals

revision: str = "2f9f411fe9b4"
down_revision: str | None = "c0a7ecc69161"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_order_day_totals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dimension", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("with_due", sa.BigInteger(), nullable=False),
        sa.Column("on_time", sa.BigInteger(), nullable=False),
        sa.Column("lead_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_day_totals")),
        sa.UniqueConstraint(
            "dimension", "day", "key", name=op.f("uq_work_order_day_totals_dimension_day_key")
        ),
    )

    # Count the work orders there are (later writes keep the totals), with the writes' code.
    bind = op.get_bind()
    counted: totals.Totals = {}
    stored = bind.execute(totals.facts().execution_options(yield_per=20_000))
    for batch in stored.partitions():
        totals.count(batch, bind.dialect.name, into=counted)
    table = sa.table(
        "work_order_day_totals",
        sa.column("day", sa.Date()),
        *(sa.column(name) for name in ("dimension", "key", *totals.FIGURES)),
    )
    op.bulk_insert(table, totals.values(counted))


def downgrade() -> None:
    op.drop_table("work_order_day_totals")
