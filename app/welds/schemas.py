from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial
from app.models import Joint, WeldStatus
from app.wps.schemas import MaterialGroup, Measure, Position, Process


class WeldCreate(InputModel):
    reference: str = Field(
        min_length=1, max_length=100, description="Unique in the work order", examples=["W-12"]
    )
    wps_id: int | None = Field(default=None, description="An approved WPS (for new work)")
    process: Process | None = Field(default=None, description="Defaults to the WPS's")
    joint: Joint
    thickness: Measure = Field(description="mm")
    diameter: Measure | None = Field(default=None, description="Pipe outside diameter, mm")
    position: Position
    material_group: MaterialGroup | None = None
    length_mm: Measure | None = None
    welder_id: int | None = Field(default=None, description="Employee; must be qualified")
    status: WeldStatus = WeldStatus.planned
    override_reason: str | None = Field(
        default=None,
        min_length=10,
        max_length=1000,
        description="Managers only: assign a welder the engine does not find qualified, and "
        "say why (recorded with who and when)",
    )


WeldUpdate = partial(WeldCreate, "WeldUpdate")


class Override(BaseModel):
    by: str
    at: dt.datetime
    reason: str


class WeldRead(ResourceRead):
    work_order_id: int
    reference: str
    wps_id: int | None
    process: str | None
    joint: Joint
    thickness: float
    diameter: float | None
    position: str
    material_group: str | None
    length_mm: float | None
    welder_id: int | None
    status: WeldStatus
    override: Override | None


class WeldQuery(ListQuery):
    sort_by: Literal["id", "reference", "status", "created_at"] = "id"
    status: WeldStatus | None = None
    welder_id: int | None = None
    wps_id: int | None = None
    overridden: bool | None = Field(default=None, description="Assigned by a manager's override")
