"""What the qualification engine answers, and how it is asked."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.schemas import SafeValues
from app.models import Joint, TransferMode
from app.wps.schemas import MaterialGroup, Measure, Position, Process


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
    last_evidence_on: dt.date | None = Field(
        description="The welder's latest imported run with the qualification's processes "
        "(evidence of welding: it moves the ASME IX process clock; for ISO 9606-1 it is what "
        "the coordinator confirms)"
    )
    last_evidence_entry_id: int | None = Field(description="That run (a workshop entry)")
    last_evidence_process: str | None


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
    on: dt.date | None = Field(default=None, description="Default: today (the workshop's)")
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
