"""Dashboard indexes: work-order completions, inspection counts per welder, machine and method.

Revision ID: 14a874ae26a6
Revises: 013164de5b6f
Create Date: 2026-11-28 08:55:29.152837+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "14a874ae26a6"
down_revision: str | None = "013164de5b6f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INSPECTION_INDEXES = {
    f"ix_inspections_{key}_quality": [key, "result", "first_of_weld", "weld_repaired"]
    for key in ("welder_id", "machine_id", "method")
}


def upgrade() -> None:
    op.create_index(
        "ix_work_orders_status_completed_at",
        "work_orders",
        ["status", "completed_at", "due_date", "created_at"],
    )
    for name, columns in INSPECTION_INDEXES.items():
        op.create_index(name, "inspections", columns)
    # The weekly trend reads (inspected_at, result) alone; it replaces the inspected_at index.
    op.create_index("ix_inspections_inspected_at_result", "inspections", ["inspected_at", "result"])
    op.drop_index("ix_inspections_inspected_at", table_name="inspections")


def downgrade() -> None:
    op.create_index("ix_inspections_inspected_at", "inspections", ["inspected_at"])
    op.drop_index("ix_inspections_inspected_at_result", table_name="inspections")
    for name in INSPECTION_INDEXES:
        op.drop_index(name, table_name="inspections")
    op.drop_index("ix_work_orders_status_completed_at", table_name="work_orders")
