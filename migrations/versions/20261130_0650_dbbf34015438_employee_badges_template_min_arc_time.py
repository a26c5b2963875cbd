"""Run fields (issue 18): employees get the `badge` the welding machines log them by (unique,
optional), and templates a `min_arc_time_s` below which an imported run is a tack. Both are
new nullable columns: existing rows keep working unchanged, and the downgrade only drops them.

Revision ID: dbbf34015438
Revises: 3c1d9e0a7b52
Create Date: 2026-11-30 06:50:22.362357+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dbbf34015438"
down_revision: str | None = "3c1d9e0a7b52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("badge", sa.String(length=50), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_employees_badge"), ["badge"])

    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_arc_time_s", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.drop_column("min_arc_time_s")

    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_employees_badge"), type_="unique")
        batch_op.drop_column("badge")
