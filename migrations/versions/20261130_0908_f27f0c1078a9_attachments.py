"""Attachments: files on qualifications, inspections, work orders, welds, equipment, machines
and WPS, one table for every owner (`owner`, `owner_id`, no foreign key: ADR 0030). A new
owner needs no migration.

Revision ID: f27f0c1078a9
Revises: cb11c3a29598
Create Date: 2026-11-30 09:08:25.988545+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "f27f0c1078a9"
down_revision: str | None = "cb11c3a29598"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index("ix_attachments_owner_owner_id", "attachments", ["owner", "owner_id"])
    op.create_index(op.f("ix_attachments_created_at"), "attachments", ["created_at"])
    op.create_index(op.f("ix_attachments_updated_at"), "attachments", ["updated_at"])



def downgrade() -> None:
    op.drop_table("attachments")  # its indexes go with it
