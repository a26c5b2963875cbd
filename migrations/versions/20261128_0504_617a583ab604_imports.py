"""imports

Revision ID: 617a583ab604
Revises: cbe055960526
Create Date: 2026-11-28 05:04:24.766104+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import app.models.base

revision: str = "617a583ab604"
down_revision: str | None = "cbe055960526"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "template_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "source",
            sa.Enum(
                "upload",
                "schedule",
                "cli",
                name="importsource",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=True),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                name="importstatus",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("on_error", sa.String(length=10), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("file_deleted_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"], ["templates.id"], name=op.f("fk_imports_template_id_templates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint(
            "template_id", "dedupe_key", name=op.f("uq_imports_template_id_dedupe_key")
        ),
    )
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_imports_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_imports_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_imports_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_imports_template_id"), ["template_id"], unique=False)
        batch_op.create_index(
            "ix_imports_template_id_sha256", ["template_id", "sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_imports_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("workshop_entries", schema=None) as batch_op:
        batch_op.alter_column(
            "import_id",
            existing_type=sa.BIGINT(),
            type_=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            existing_nullable=True,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_workshop_entries_import_id_imports"),
            "imports",
            ["import_id"],
            ["id"],
            ondelete="CASCADE",
        )



def downgrade() -> None:
    # Dropping a table drops its indexes (dropping an FK's index first fails on MariaDB).
    with op.batch_alter_table("workshop_entries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_workshop_entries_import_id_imports"), type_="foreignkey"
        )
        batch_op.alter_column(
            "import_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            type_=sa.BIGINT(),
            existing_nullable=True,
        )

    op.drop_table("imports")
