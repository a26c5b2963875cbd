"""Calibration and validation records: the dated history of checks on an instrument.

An equipment's calibrations and a welding machine's validations (IEC 60974-14, its meters) are
the same kind of record with another owner. Each keeps the `next_due` it gave when recorded;
the owner's derived fields (`last_calibration_date` / `next_calibration_due`, `last_validated_on`
/ `validation_due`) are kept in step by app/core/history.py. ADR 0031.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import BigId, Resource
from app.models.types import enum_column


class CheckResult(StrEnum):
    passed = "pass"
    failed = "fail"
    adjusted = "adjusted"  # out of tolerance as found, adjusted and within it as left


class Calibration(Resource):
    """One calibration of a piece of equipment; part of it (deleted with it)."""

    __tablename__ = "calibrations"
    __label__ = "Calibration"
    __table_args__ = (
        Index("ix_calibrations_equipment_id_calibrated_on", "equipment_id", "calibrated_on"),
    )

    equipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("equipment.id", ondelete="CASCADE"))
    calibrated_on: Mapped[date] = mapped_column(Date)
    result: Mapped[CheckResult] = enum_column(CheckResult)
    performed_by: Mapped[str | None] = mapped_column(String(200))
    certificate_number: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    next_due: Mapped[date | None] = mapped_column(Date)


class MachineValidation(Resource):
    """One validation of a welding machine's meters (IEC 60974-14); part of the machine."""

    __tablename__ = "machine_validations"
    __label__ = "Validation"
    __table_args__ = (
        Index("ix_machine_validations_machine_id_validated_on", "machine_id", "validated_on"),
    )

    machine_id: Mapped[int] = mapped_column(BigId, ForeignKey("machines.id", ondelete="CASCADE"))
    validated_on: Mapped[date] = mapped_column(Date)
    result: Mapped[CheckResult] = enum_column(CheckResult)
    performed_by: Mapped[str | None] = mapped_column(String(200))
    certificate_number: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    next_due: Mapped[date | None] = mapped_column(Date)
