"""The audit trail: one row per create, update or delete of a resource (ADR 0029).

A new table, nothing moved: no existing row has a history to fill in.

Revision ID: e4da80b6ed4e
Revises: 36c5ea55452a
Create Date: 2026-11-30 09:07:34.018351+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "e4da80b6ed4e"
down_revision: str | None = "36c5ea55452a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_name", sa.String(length=320), nullable=True),
        sa.Column(
            "action",
            sa.Enum(
                "create",
                "update",
                "delete",
                name="auditaction",
                native_enum=False,
                create_constraint=True,
                length=14,
            ),
            nullable=False,
        ),
        sa.Column("resource", sa.String(length=50), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_actor_kind_actor_id_id", ["actor_kind", "actor_id", "id"], unique=False
        )
        batch_op.create_index("ix_audit_events_actor_name_id", ["actor_name", "id"], unique=False)
        batch_op.create_index("ix_audit_events_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_events_resource_by_id", ["resource", "id"], unique=False)
        batch_op.create_index(
            "ix_audit_events_resource_resource_id_id",
            ["resource", "resource_id", "id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("audit_events")
