"""Weld runs: entries carry their welder, WPS, weld, pass, process and conformance verdict;
templates keep a job-number map; imports keep their conformance summary (ADR 0028).

On SQLite the entry columns are added in place (ADD COLUMN with an inline, named REFERENCES
clause): a batch migration would copy the whole entries table, millions of rows.

Revision ID: 36c5ea55452a
Revises: dbbf34015438
Create Date: 2026-11-30 08:44:04.628938+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "36c5ea55452a"
down_revision: str | None = "dbbf34015438"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REFERENCES = {"welder_id": "employees", "wps_id": "wps", "weld_id": "welds"}


def _plain() -> list[sa.Column]:
    return [
        sa.Column("pass_seq", sa.Integer(), nullable=True),
        sa.Column("process", sa.String(length=10), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("heat_input", sa.Double(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=True),
        sa.Column("conformance", JSON, nullable=True),
    ]


def _fk(column: str) -> str:
    return f"fk_workshop_entries_{column}_{REFERENCES[column]}"


def upgrade() -> None:
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conformance", JSON, nullable=True))
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_map", JSON, nullable=True))

    if op.get_bind().dialect.name == "sqlite":
        for column, table in REFERENCES.items():
            op.execute(
                f"ALTER TABLE workshop_entries ADD COLUMN {column} INTEGER "
                f"CONSTRAINT {_fk(column)} REFERENCES {table} (id)"
            )
        for plain in _plain():
            op.add_column("workshop_entries", plain)
    else:
        with op.batch_alter_table("workshop_entries", schema=None) as batch_op:
            for column in REFERENCES:
                batch_op.add_column(sa.Column(column, ID, nullable=True))
            for plain in _plain():
                batch_op.add_column(plain)
            for column, table in REFERENCES.items():
                batch_op.create_foreign_key(_fk(column), table, [column], ["id"])
    op.create_index("ix_workshop_entries_weld_id", "workshop_entries", ["weld_id"])
    op.create_index("ix_workshop_entries_wps_id", "workshop_entries", ["wps_id"])
    op.create_index(
        "ix_workshop_entries_welder_process_recorded_at",
        "workshop_entries",
        ["welder_id", "process", "recorded_at"],
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("workshop_entries", schema=None) as batch_op:
        for column in REFERENCES:
            if not sqlite:  # SQLite's copy of the table leaves out a dropped column's key
                batch_op.drop_constraint(_fk(column), type_="foreignkey")
        # After the foreign keys: MariaDB keeps an index a foreign key needs.
        batch_op.drop_index("ix_workshop_entries_wps_id")
        batch_op.drop_index("ix_workshop_entries_welder_process_recorded_at")
        batch_op.drop_index("ix_workshop_entries_weld_id")
        for name in ("conformance", "failures", "heat_input", "verdict", "process", "pass_seq"):
            batch_op.drop_column(name)
        for column in reversed(REFERENCES):
            batch_op.drop_column(column)
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.drop_column("job_map")
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_column("conformance")
