from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import BigId, Resource
from app.models.types import enum_column


class EmployeeRole(StrEnum):
    welder = "welder"
    inspector = "inspector"
    supervisor = "supervisor"
    operator = "operator"
    manager = "manager"
    other = "other"


class Employee(Resource):
    __tablename__ = "employees"

    employee_number: Mapped[str] = mapped_column(String(50), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), index=True)
    last_name: Mapped[str] = mapped_column(String(100), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    role: Mapped[EmployeeRole] = enum_column(EmployeeRole, index=True)
    department: Mapped[str | None] = mapped_column(String(100), index=True)
    hire_date: Mapped[date | None] = mapped_column(Date, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    @hybrid_property
    def full_name(self) -> str:
        """ "First Last"; in a query, the same text built by the database (NULL when an outer
        join finds no employee)."""
        return f"{self.first_name} {self.last_name}"

    @full_name.inplace.expression
    @classmethod
    def _full_name(cls) -> ColumnElement[str]:
        return cls.first_name + " " + cls.last_name


class QualificationStandard(StrEnum):
    iso_9606_1 = "ISO 9606-1"
    iso_14732 = "ISO 14732"
    asme_ix = "ASME IX"
    aws_d1_1 = "AWS D1.1"
    other = "other"


class Qualification(Resource):
    """A welder's certificate; part of the employee (deleted with them)."""

    __tablename__ = "qualifications"
    __label__ = "Qualification"

    employee_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    standard: Mapped[QualificationStandard] = enum_column(QualificationStandard)
    process: Mapped[str] = mapped_column(String(10), index=True)
    certificate_number: Mapped[str] = mapped_column(String(100), unique=True)
    material_group: Mapped[str | None] = mapped_column(String(50))
    positions: Mapped[str | None] = mapped_column(String(100))
    thickness_range: Mapped[str | None] = mapped_column(String(50))
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    last_confirmed_on: Mapped[date | None] = mapped_column(Date)
