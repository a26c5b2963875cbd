"""Calibration and validation records (ADR 0031).

Two history tables, `calibrations` (of equipment) and `machine_validations` (IEC 60974-14, of
welding machines), and the machine's validation interval with its two derived fields. Each
equipment with a `last_calibration_date` gets one calibration record of that day (result
`pass`, performed by `migrated`, due when the equipment says), so its history is never empty
and its two calibration fields, now derived from the history, keep their values.

Revision ID: 8078efd9fa1e
Revises: f27f0c1078a9
Create Date: 2026-11-30 09:24:53.045726+00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "8078efd9fa1e"
down_revision: str | None = "f27f0c1078a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

equipment = sa.table(
    "equipment",
    sa.column("id", sa.BigInteger()),
    sa.column("last_calibration_date", sa.Date()),
    sa.column("next_calibration_due", sa.Date()),
)
calibrations = sa.table(
    "calibrations",
    sa.column("equipment_id", sa.BigInteger()),
    sa.column("calibrated_on", sa.Date()),
    sa.column("result", sa.String()),
    sa.column("performed_by", sa.String()),
    sa.column("next_due", sa.Date()),
    sa.column("created_at", app.models.base.UTCDateTime()),
    sa.column("updated_at", app.models.base.UTCDateTime()),
    sa.column("version", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "machine_validations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "machine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("validated_on", sa.Date(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "pass",
                "fail",
                "adjusted",
                name="checkresult",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("performed_by", sa.String(length=200), nullable=True),
        sa.Column("certificate_number", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["machines.id"],
            name=op.f("fk_machine_validations_machine_id_machines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_validations")),
    )
    with op.batch_alter_table("machine_validations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_machine_validations_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_machine_validations_machine_id_validated_on",
            ["machine_id", "validated_on"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_machine_validations_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "calibrations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "equipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("calibrated_on", sa.Date(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "pass",
                "fail",
                "adjusted",
                name="checkresult",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("performed_by", sa.String(length=200), nullable=True),
        sa.Column("certificate_number", sa.String(length=100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_calibrations_equipment_id_equipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibrations")),
    )
    with op.batch_alter_table("calibrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calibrations_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_calibrations_equipment_id_calibrated_on",
            ["equipment_id", "calibrated_on"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_calibrations_updated_at"), ["updated_at"], unique=False
        )

    with op.batch_alter_table("machines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validation_interval_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_validated_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("validation_due", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_machines_validation_due"), ["validation_due"], unique=False
        )
        batch_op.create_check_constraint(
            op.f("ck_machines_validation_interval_positive"), "validation_interval_days > 0"
        )

    bind = op.get_bind()
    calibrated = bind.execute(
        sa.select(
            equipment.c.id, equipment.c.last_calibration_date, equipment.c.next_calibration_due
        ).where(equipment.c.last_calibration_date.is_not(None))
    ).all()
    now = datetime.now(UTC)
    if calibrated:
        bind.execute(
            calibrations.insert(),
            [
                {
                    "equipment_id": id_,
                    "calibrated_on": day,
                    "result": "pass",
                    "performed_by": "migrated",
                    "next_due": due,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for id_, day, due in calibrated
            ],
        )


def downgrade() -> None:
    # The equipment keeps its last date and due date: they are columns of its own. Dropping the
    # tables drops their indexes with them (MariaDB refuses to drop the one a foreign key uses).
    with op.batch_alter_table("machines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_machines_validation_interval_positive"), type_="check")
        batch_op.drop_index(batch_op.f("ix_machines_validation_due"))
    with op.batch_alter_table("machines", schema=None) as batch_op:
        batch_op.drop_column("validation_due")
        batch_op.drop_column("last_validated_on")
        batch_op.drop_column("validation_interval_days")
    op.drop_table("calibrations")
    op.drop_table("machine_validations")
