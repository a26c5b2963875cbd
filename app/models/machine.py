from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import String
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
