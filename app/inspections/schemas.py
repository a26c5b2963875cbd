from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from app.core.pagination import ExportOptions, ListQuery
from app.core.schemas import InputModel, ResourceRead, UTCDateTime, partial
from app.models import InspectionMethod, InspectionResult, QualityLevel
from app.models.base import utcnow


class Defect(InputModel):
    """An imperfection found, by its ISO 6520-1 reference number (e.g. 2011 porosity,
    5011 undercut, 100 crack)."""

    code: int = Field(ge=100, le=6999, examples=[2011, 5011])
    description: str | None = Field(default=None, max_length=200)
    count: int = Field(default=1, ge=1, le=100_000)

    @field_validator("code")
    @classmethod
    def _iso_6520_group(cls, code: int) -> int:
        # Groups 1 (cracks) to 6 (miscellaneous): 3-digit groups, 4-digit sub-groups.
        if str(code)[0] not in "123456":
            raise ValueError("not an ISO 6520-1 reference number (groups 1 to 6)")
        return code


class InspectionCreate(InputModel):
    work_order_id: int | None = None
    machine_id: int | None = None
    welder_id: int | None = Field(default=None, description="Employee who made the weld")
    inspector_id: int | None = Field(default=None, description="Employee who inspected it")
    method: InspectionMethod
    result: InspectionResult
    weld_reference: str | None = Field(default=None, max_length=100, examples=["W-12"])
    weld_id: int | None = Field(
        default=None, description="A weld of the register: sets work_order_id and weld_reference"
    )
    quality_level: QualityLevel | None = Field(default=None, description="ISO 5817 level")
    defects: list[Defect] = Field(default_factory=list, max_length=200)
    inspected_at: UTCDateTime = Field(default_factory=utcnow)
    notes: str | None = Field(default=None, max_length=10_000)


InspectionUpdate = partial(InspectionCreate, "InspectionUpdate")


class InspectionRead(ResourceRead):
    work_order_id: int | None
    machine_id: int | None
    welder_id: int | None
    inspector_id: int | None
    method: InspectionMethod
    result: InspectionResult
    weld_reference: str | None
    weld_id: int | None
    quality_level: QualityLevel | None
    defects: list[Defect]
    inspected_at: dt.datetime
    notes: str | None


class InspectionQuery(ListQuery):
    sort_by: Literal["id", "inspected_at", "result", "method", "created_at"] = "id"
    work_order_id: int | None = None
    machine_id: int | None = None
    welder_id: int | None = None
    inspector_id: int | None = None
    method: InspectionMethod | None = None
    result: InspectionResult | None = None
    quality_level: QualityLevel | None = None
    weld_reference: str | None = None
    inspected_from: UTCDateTime | None = None
    inspected_to: UTCDateTime | None = None


class InspectionExport(ExportOptions, InspectionQuery):
    pass
