"""import schedules

Revision ID: 5835c5103010
Revises: 617a583ab604
Create Date: 2026-11-28 05:42:22.701018+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "5835c5103010"
down_revision: str | None = "617a583ab604"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_schedules",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "template_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source_uri", sa.String(length=500), nullable=False),
        sa.Column("pattern", sa.String(length=200), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("last_run_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=True),
        sa.Column("last_message", sa.String(length=1000), nullable=True),
        sa.Column("next_run_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name=op.f("fk_import_schedules_template_id_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_import_schedules_name")),
    )
    with op.batch_alter_table("import_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_schedules_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_import_schedules_enabled"), ["enabled"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_import_schedules_template_id"), ["template_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_import_schedules_updated_at"), ["updated_at"], unique=False
        )

    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "schedule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("source_path", sa.String(length=1000), nullable=True))
        batch_op.create_index(batch_op.f("ix_imports_schedule_id"), ["schedule_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_imports_schedule_id_import_schedules"),
            "import_schedules",
            ["schedule_id"],
            ["id"],
            ondelete="SET NULL",
        )



def downgrade() -> None:
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_imports_schedule_id_import_schedules"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_imports_schedule_id"))
        batch_op.drop_column("source_path")
        batch_op.drop_column("schedule_id")

    op.drop_table("import_schedules")
