"""workshop resources

Revision ID: cbe055960526
Revises: fb21ec5d057a
Create Date: 2026-11-28 04:53:44.443217+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
import app.models.base

revision: str = "cbe055960526"
down_revision: str | None = "fb21ec5d057a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "employees",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("employee_number", sa.String(length=50), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "welder",
                "inspector",
                "supervisor",
                "operator",
                "manager",
                "other",
                name="employeerole",
                native_enum=False,
                create_constraint=True,
                length=18,
            ),
            nullable=False,
        ),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("hire_date", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint("employee_number", name=op.f("uq_employees_employee_number")),
    )
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_employees_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_employees_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_employees_department"), ["department"], unique=False)
        batch_op.create_index(batch_op.f("ix_employees_first_name"), ["first_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_employees_hire_date"), ["hire_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_employees_last_name"), ["last_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_employees_role"), ["role"], unique=False)
        batch_op.create_index(batch_op.f("ix_employees_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.String(length=50), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "wire",
                "electrode",
                "gas",
                "flux",
                "ppe",
                "spare_part",
                "other",
                name="itemcategory",
                native_enum=False,
                create_constraint=True,
                length=18,
            ),
            nullable=False,
        ),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("reorder_level", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("reorder_quantity", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column("supplier", sa.String(length=200), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_items_quantity_not_negative")),
        sa.CheckConstraint("reorder_level >= 0", name=op.f("ck_items_reorder_level_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("item_id", name=op.f("uq_items_item_id")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_item_name"), ["item_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_location"), ["location"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_quantity"), ["quantity"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_reorder_level"), ["reorder_level"], unique=False)
        batch_op.create_index(batch_op.f("ix_items_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "machines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "MIG/MAG",
                "TIG",
                "MMA",
                "SAW",
                "FCAW",
                "laser",
                "robot",
                "other",
                name="machinetype",
                native_enum=False,
                create_constraint=True,
                length=15,
            ),
            nullable=False,
        ),
        sa.Column("manufacturer", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("serial_number", sa.String(length=100), nullable=True),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "maintenance",
                "retired",
                name="machinestatus",
                native_enum=False,
                create_constraint=True,
                length=19,
            ),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machines")),
        sa.UniqueConstraint("code", name=op.f("uq_machines_code")),
    )
    with op.batch_alter_table("machines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_machines_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_machines_location"), ["location"], unique=False)
        batch_op.create_index(batch_op.f("ix_machines_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_machines_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_machines_type"), ["type"], unique=False)
        batch_op.create_index(batch_op.f("ix_machines_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "equipment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column(
            "machine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("location", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "operational",
                "maintenance",
                "out_of_service",
                "retired",
                name="equipmentstatus",
                native_enum=False,
                create_constraint=True,
                length=22,
            ),
            nullable=False,
        ),
        sa.Column("serial_number", sa.String(length=100), nullable=True),
        sa.Column("last_calibration_date", sa.Date(), nullable=True),
        sa.Column("calibration_interval_days", sa.Integer(), nullable=True),
        sa.Column("next_calibration_due", sa.Date(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "calibration_interval_days > 0", name=op.f("ck_equipment_calibration_interval_positive")
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["machines.id"], name=op.f("fk_equipment_machine_id_machines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("code", name=op.f("uq_equipment_code")),
    )
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_location"), ["location"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_equipment_next_calibration_due"), ["next_calibration_due"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_equipment_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_type"), ["type"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "qualifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "employee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "standard",
            sa.Enum(
                "ISO 9606-1",
                "ISO 14732",
                "ASME IX",
                "AWS D1.1",
                "other",
                name="qualificationstandard",
                native_enum=False,
                create_constraint=True,
                length=18,
            ),
            nullable=False,
        ),
        sa.Column("process", sa.String(length=10), nullable=False),
        sa.Column("certificate_number", sa.String(length=100), nullable=False),
        sa.Column("material_group", sa.String(length=50), nullable=True),
        sa.Column("positions", sa.String(length=100), nullable=True),
        sa.Column("thickness_range", sa.String(length=50), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("last_confirmed_on", sa.Date(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_qualifications_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualifications")),
        sa.UniqueConstraint(
            "certificate_number", name=op.f("uq_qualifications_certificate_number")
        ),
    )
    with op.batch_alter_table("qualifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qualifications_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_qualifications_employee_id"), ["employee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_qualifications_expires_on"), ["expires_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_qualifications_issued_on"), ["issued_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_qualifications_process"), ["process"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_qualifications_updated_at"), ["updated_at"], unique=False
        )

    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delta", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("quantity_after", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_stock_movements_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stock_movements_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stock_movements_item_id"), ["item_id"], unique=False)

    op.create_table(
        "templates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "machine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sheet", sa.String(length=100), nullable=True),
        sa.Column("header_row", sa.Integer(), nullable=False),
        sa.Column(
            "mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("timestamp_field", sa.String(length=100), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("header_row >= 1", name=op.f("ck_templates_header_row_positive")),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["machines.id"], name=op.f("fk_templates_machine_id_machines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_templates_name")),
    )
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_templates_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_templates_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_templates_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_templates_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "work_orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.String(length=50), nullable=False),
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "assigned_welder_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "machine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("wps_number", sa.String(length=50), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "on_hold",
                "completed",
                "cancelled",
                name="workorderstatus",
                native_enum=False,
                create_constraint=True,
                length=19,
            ),
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="priority",
                native_enum=False,
                create_constraint=True,
                length=14,
            ),
            nullable=False,
        ),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("started_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_work_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["assigned_welder_id"],
            ["employees.id"],
            name=op.f("fk_work_orders_assigned_welder_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["machines.id"], name=op.f("fk_work_orders_machine_id_machines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("order_id", name=op.f("uq_work_orders_order_id")),
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_orders_assigned_welder_id"), ["assigned_welder_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_orders_client"), ["client"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_priority"), ["priority"], unique=False)
        batch_op.create_index(
            "ix_work_orders_status_due_date", ["status", "due_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_orders_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "inspections",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "work_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "machine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("welder_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "inspector_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "method",
            sa.Enum(
                "VT",
                "RT",
                "UT",
                "MT",
                "PT",
                "DT",
                "LT",
                name="inspectionmethod",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column(
            "result",
            sa.Enum(
                "Pass",
                "Fail",
                "Rework",
                name="inspectionresult",
                native_enum=False,
                create_constraint=True,
                length=14,
            ),
            nullable=False,
        ),
        sa.Column("weld_reference", sa.String(length=100), nullable=True),
        sa.Column(
            "quality_level",
            sa.Enum(
                "B",
                "C",
                "D",
                name="qualitylevel",
                native_enum=False,
                create_constraint=True,
                length=9,
            ),
            nullable=True,
        ),
        sa.Column(
            "defects",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("inspected_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["employees.id"], name=op.f("fk_inspections_inspector_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["machines.id"], name=op.f("fk_inspections_machine_id_machines")
        ),
        sa.ForeignKeyConstraint(
            ["welder_id"], ["employees.id"], name=op.f("fk_inspections_welder_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_inspections_work_order_id_work_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspections_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inspections_inspected_at"), ["inspected_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inspections_inspector_id"), ["inspector_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspections_machine_id"), ["machine_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspections_method"), ["method"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inspections_quality_level"), ["quality_level"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspections_result"), ["result"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspections_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inspections_weld_reference"), ["weld_reference"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inspections_welder_id"), ["welder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inspections_work_order_id"), ["work_order_id"], unique=False
        )

    op.create_table(
        "workshop_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "template_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "machine_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("recorded_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["machines.id"], name=op.f("fk_workshop_entries_machine_id_machines")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name=op.f("fk_workshop_entries_template_id_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_entries")),
    )
    with op.batch_alter_table("workshop_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workshop_entries_import_id"), ["import_id"], unique=False
        )
        batch_op.create_index(
            "ix_workshop_entries_machine_id_recorded_at",
            ["machine_id", "recorded_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_workshop_entries_recorded_at"), ["recorded_at"], unique=False
        )
        batch_op.create_index(
            "ix_workshop_entries_template_id_recorded_at",
            ["template_id", "recorded_at"],
            unique=False,
        )

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_keys_updated_at"), ["updated_at"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_updated_at"), ["updated_at"], unique=False)



def downgrade() -> None:
    # Dropping a table drops its indexes (dropping an FK's index first fails on MariaDB).
    op.drop_table("workshop_entries")
    op.drop_table("inspections")
    op.drop_table("work_orders")
    op.drop_table("templates")
    op.drop_table("stock_movements")
    op.drop_table("qualifications")
    op.drop_table("equipment")
    op.drop_table("machines")
    op.drop_table("items")
    op.drop_table("employees")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_updated_at"))
        batch_op.drop_index(batch_op.f("ix_users_created_at"))
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_updated_at"))
        batch_op.drop_index(batch_op.f("ix_api_keys_created_at"))
