"""The deletions feed (ADR 0034).

One table, `deletions`: a deleted row of a listed resource (its resource name, id and when),
kept DELETIONS_KEEP_DAYS for the clients that sync a copy. It starts empty: incremental sync
starts with this revision, so no client holds a copy from before it.

Revision ID: c0a7ecc69161
Revises: 3fb86dd03b0e
Create Date: 2026-11-30 11:51:32.408687+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "c0a7ecc69161"
down_revision: str | None = "3fb86dd03b0e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deletions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("resource", sa.String(length=50), nullable=False),
        sa.Column("resource_id", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletions")),
    )
    with op.batch_alter_table("deletions", schema=None) as batch_op:
        batch_op.create_index("ix_deletions_deleted_at_id", ["deleted_at", "id"], unique=False)
        batch_op.create_index(
            "ix_deletions_resource_deleted_at_id", ["resource", "deleted_at", "id"], unique=False
        )



def downgrade() -> None:
    with op.batch_alter_table("deletions", schema=None) as batch_op:
        batch_op.drop_index("ix_deletions_resource_deleted_at_id")
        batch_op.drop_index("ix_deletions_deleted_at_id")

    op.drop_table("deletions")
