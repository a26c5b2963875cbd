from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from app.core.history import CheckDay, CheckFields, CheckRead
from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial
from app.models import EquipmentStatus


class EquipmentCreate(InputModel):
    code: str = Field(min_length=1, max_length=50, examples=["POS-02"])
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(
        min_length=1, max_length=50, examples=["positioner", "oven", "gauge", "fume_extractor"]
    )
    machine_id: int | None = None
    location: str | None = Field(default=None, max_length=100)
    status: EquipmentStatus = EquipmentStatus.operational
    serial_number: str | None = Field(default=None, max_length=100)
    last_calibration_date: CheckDay | None = Field(
        default=None,
        description="Kept from the calibration records once there are any (the latest wins). "
        "A new date sent here (not in the future) is recorded as a passing calibration; prefer "
        "POST /equipment/{id}/calibrations, which keeps the result, lab and certificate",
    )
    calibration_interval_days: int | None = Field(default=None, ge=1, le=3650)
    next_calibration_due: dt.date | None = Field(
        default=None,
        description="Derived: from the latest calibration record when there is one (its day for "
        "a fail); else last_calibration_date + calibration_interval_days when both are set; "
        "otherwise as given",
    )


EquipmentUpdate = partial(EquipmentCreate, "EquipmentUpdate")


class EquipmentRead(ResourceRead):
    code: str
    name: str
    type: str
    machine_id: int | None
    location: str | None
    status: EquipmentStatus
    serial_number: str | None
    last_calibration_date: dt.date | None
    calibration_interval_days: int | None
    next_calibration_due: dt.date | None


class EquipmentQuery(ListQuery):
    sort_by: Literal[
        "id", "code", "name", "type", "status", "next_calibration_due", "created_at"
    ] = "id"
    status: EquipmentStatus | None = None
    type: str | None = None
    machine_id: int | None = None
    location: str | None = None
    q: str | None = Field(default=None, description="Contains, in code or name")
    calibration_due_before: dt.date | None = Field(
        default=None, description="Next calibration due on or before this date"
    )


class CalibrationCreate(CheckFields):
    calibrated_on: CheckDay = Field(description="The day of the calibration; not in the future")


class CalibrationRead(CheckRead):
    equipment_id: int
    calibrated_on: dt.date
    next_due: dt.date | None = Field(
        description="calibrated_on + the equipment's interval (pass, adjusted); calibrated_on "
        "for a fail; null without an interval"
    )


class CalibrationQuery(ListQuery):
    sort_by: Literal["calibrated_on", "id"] = "calibrated_on"
    order: Literal["asc", "desc"] = "desc"
