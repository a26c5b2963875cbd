from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Resource
from app.models.types import Json, enum_column


class MachineType(StrEnum):
    mig_mag = "MIG/MAG"
    tig = "TIG"
    mma = "MMA"
    saw = "SAW"
    fcaw = "FCAW"
    laser = "laser"
    robot = "robot"
    other = "other"


class MachineStatus(StrEnum):
    active = "active"
    maintenance = "maintenance"
    retired = "retired"


class Machine(Resource):
    """A welding machine or cell."""

    __tablename__ = "machines"
    __table_args__ = (
        CheckConstraint("validation_interval_days > 0", name="validation_interval_positive"),
    )

    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[MachineType] = enum_column(MachineType, index=True)
    manufacturer: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[MachineStatus] = enum_column(
        MachineStatus, default=MachineStatus.active, index=True
    )
    # `metadata` is reserved by SQLAlchemy's declarative base: the attribute has an underscore.
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", Json, default=dict)
    # IEC 60974-14: days between validations of the meters; null = no validation required.
    validation_interval_days: Mapped[int | None] = mapped_column(Integer)
    # Derived from the validation records (app/core/history.py), never written by a client.
    last_validated_on: Mapped[date | None] = mapped_column(Date)
    validation_due: Mapped[date | None] = mapped_column(Date, index=True)
