"""inspection weld flags

Revision ID: 013164de5b6f
Revises: 5835c5103010
Create Date: 2026-11-28 06:25:11.843206+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "013164de5b6f"
down_revision: str | None = "5835c5103010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_of_weld", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("weld_repaired", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_inspections_first_of_weld"), ["first_of_weld"], unique=False
        )

    # The defaults only fill the rows there are; the application always sets both.
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.alter_column("first_of_weld", existing_type=sa.Boolean(), server_default=None)
        batch_op.alter_column("weld_repaired", existing_type=sa.Boolean(), server_default=None)

    # Derive the flags of the inspections there are (later writes keep them).
    inspections = sa.table(
        "inspections",
        sa.column("id"), sa.column("work_order_id"), sa.column("weld_reference"),
        sa.column("result"), sa.column("inspected_at"),
        sa.column("first_of_weld"), sa.column("weld_repaired"),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(inspections.c.id, inspections.c.work_order_id, inspections.c.weld_reference,
                  inspections.c.result)
        .order_by(inspections.c.inspected_at, inspections.c.id)
    ).all()
    welds: dict[object, list[tuple[int, str]]] = {}
    for id_, work_order_id, reference, result in rows:
        key = (work_order_id, reference) if reference is not None else ("own", id_)
        welds.setdefault(key, []).append((id_, result))
    updates = [
        {"key": id_, "first": n == 0, "repaired": any(r != "Pass" for _, r in members)}
        for members in welds.values()
        for n, (id_, _) in enumerate(members)
    ]
    if updates:
        bind.execute(
            inspections.update()
            .where(inspections.c.id == sa.bindparam("key"))
            .values(first_of_weld=sa.bindparam("first"), weld_repaired=sa.bindparam("repaired")),
            updates,
        )


def downgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspections_first_of_weld"))
        batch_op.drop_column("weld_repaired")
        batch_op.drop_column("first_of_weld")

