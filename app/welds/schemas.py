from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, SafeValues, partial
from app.models import Joint, TransferMode, WeldStatus
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


class Check(BaseModel):
    variable: str
    value: str | float | None
    covered: bool
    range: str
    qualification_id: int | None
    reason: str


class Lapse(BaseModel):
    qualification_id: int
    certificate: str
    kind: Literal["not_yet_issued", "expired", "confirmation_due", "process_clock"]
    since: dt.date
    reason: str


class Due(Lapse):
    """A lapse of a welder's qualification, soon or already."""

    employee_id: int
    employee_name: str


class Qualified(BaseModel):
    """The engine's answer: qualified when one valid qualification covers every variable."""

    employee_id: int
    on: dt.date
    qualified: bool
    qualification_id: int | None = Field(description="The one that covers, or comes closest")
    checks: list[Check]
    validity: list[Lapse]


class EligibleWelder(Qualified):
    name: str


class QualifiedQuery(SafeValues):
    """Either a weld, or the weld's variables given one by one."""

    model_config = ConfigDict(extra="forbid")

    weld_id: int | None = Field(default=None, description="Take the variables from this weld")
    on: dt.date | None = Field(default=None, description="Default: today (UTC)")
    process: Process | None = None
    joint: Joint | None = None
    thickness: Measure | None = None
    diameter: Measure | None = Field(default=None, description="Pipe; leave out for plate")
    position: Position | None = None
    material_group: MaterialGroup | None = None
    transfer_mode: TransferMode | None = None

    @model_validator(mode="after")
    def _one_way(self) -> QualifiedQuery:
        explicit = (self.process, self.joint, self.thickness, self.position)
        if self.weld_id is None and any(v is None for v in explicit):
            raise ValueError("give weld_id, or process, joint, thickness and position")
        if self.weld_id is not None and any(v is not None for v in explicit):
            raise ValueError("give weld_id or the variables, not both")
        return self
