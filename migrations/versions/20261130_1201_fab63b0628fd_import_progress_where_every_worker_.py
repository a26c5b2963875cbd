"""Import progress where every worker reads it (ADR 0038).

`import_progress`: one row per running import, written by the importing process in short
transactions of its own at most every IMPORT_PROGRESS_SECONDS, read by whichever worker or
replica answers GET /imports/{id}. Deleted with its import (ON DELETE CASCADE).

Revision ID: fab63b0628fd
Revises: a7ed81158613
Create Date: 2026-11-30 12:01:26.464058+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "fab63b0628fd"
down_revision: str | None = "a7ed81158613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_progress",
        sa.Column(
            "import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name=op.f("fk_import_progress_import_id_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_import_progress")),
    )


def downgrade() -> None:
    op.drop_table("import_progress")
