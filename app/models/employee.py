from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, Float, ForeignKey, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.models.base import Base, BigId, Resource, UTCDateTime, utcnow
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
    # What the welding machines log as the welder (card or badge reader); imports match on it.
    badge: Mapped[str | None] = mapped_column(String(50), unique=True)
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


class Product(StrEnum):
    P = "P"  # plate
    T = "T"  # pipe (tube)


class TransferMode(StrEnum):
    short_circuit = "short_circuit"
    globular = "globular"
    spray = "spray"
    pulsed = "pulsed"


class Revalidation(StrEnum):
    """ISO 9606-1 9.3: retest every 3 years (a), every 2 years with two recent welds tested
    (b), or no end date while the ISO 3834 system documents the welder's work (c)."""

    a = "9.3a"
    b = "9.3b"
    c = "9.3c"


class Qualification(Resource):
    """A welder's certificate; part of the employee (deleted with them). It records the test
    piece; the ranges it covers are derived from the rule tables (app/qualifications/rules.py),
    never typed in."""

    __tablename__ = "qualifications"
    __label__ = "Qualification"

    employee_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    standard: Mapped[QualificationStandard] = enum_column(QualificationStandard)
    process: Mapped[str] = mapped_column(String(10), index=True)
    certificate_number: Mapped[str] = mapped_column(String(100), unique=True)
    material_group: Mapped[str | None] = mapped_column(String(50))
    # The test piece (ISO 9606-1 terms); null on records made before it was kept.
    product: Mapped[Product | None] = enum_column(Product, nullable=True)
    joint: Mapped[str | None] = mapped_column(String(2))
    test_thickness: Mapped[float | None] = mapped_column(Float)
    test_diameter: Mapped[float | None] = mapped_column(Float)
    test_position: Mapped[str | None] = mapped_column(String(10))
    transfer_mode: Mapped[TransferMode | None] = enum_column(TransferMode, nullable=True)
    fillet_supplement: Mapped[bool] = mapped_column(Boolean, default=False)
    revalidation: Mapped[Revalidation | None] = enum_column(Revalidation, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    last_confirmed_on: Mapped[date | None] = mapped_column(Date)
    # The last day the welder is known to have welded with the process (ASME IX QW-322.1).
    last_welded_on: Mapped[date | None] = mapped_column(Date)


class QualificationConfirmation(Base):
    """A coordinator's confirmation that the welder worked in the qualification's range (ISO
    9606-1 9.2), or welded with its process (ASME IX QW-322.1); never edited."""

    __tablename__ = "qualification_confirmations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    qualification_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("qualifications.id", ondelete="CASCADE"), index=True
    )
    confirmed_on: Mapped[date] = mapped_column(Date)
    confirmed_by: Mapped[str] = mapped_column(String(100))
    evidence: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
