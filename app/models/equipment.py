from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import BigId, Resource
from app.models.types import enum_column


class EquipmentStatus(StrEnum):
    operational = "operational"
    maintenance = "maintenance"
    out_of_service = "out_of_service"
    retired = "retired"


class Equipment(Resource):
    """Assets that are not welding machines: positioners, ovens, gauges, fume extractors."""

    __tablename__ = "equipment"
    __table_args__ = (
        CheckConstraint("calibration_interval_days > 0", name="calibration_interval_positive"),
    )

    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(50), index=True)
    machine_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("machines.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[EquipmentStatus] = enum_column(
        EquipmentStatus, default=EquipmentStatus.operational, index=True
    )
    serial_number: Mapped[str | None] = mapped_column(String(100))
    last_calibration_date: Mapped[date | None] = mapped_column(Date)
    calibration_interval_days: Mapped[int | None] = mapped_column(Integer)
    next_calibration_due: Mapped[date | None] = mapped_column(Date, index=True)
