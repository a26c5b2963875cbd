from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.schemas import SafeValues


class DashboardQuery(SafeValues):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: dt.date | None = Field(
        default=None, alias="from", description="First day (the workshop's, WORKSHOP_TIMEZONE)"
    )
    to: dt.date | None = Field(default=None, description="Last day (the workshop's), inclusive")
    machine_id: int | None = None
    welder_id: int | None = None
    client: str | None = Field(default=None, description="Work-order client contains (any case)")
    days: int = Field(default=30, ge=1, le=3650, description="Horizon for 'due soon' alerts")

    @model_validator(mode="after")
    def _ordered(self) -> DashboardQuery:
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("'from' is after 'to'")
        return self


class ProductionQuery(DashboardQuery):
    bucket: Literal["day", "week", "month"] = "day"
    template_id: int | None = None
    field: str | None = Field(
        default=None,
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Numeric entry field to aggregate, e.g. arc_time_s",
    )
    agg: Literal["sum", "avg", "min", "max"] = "sum"


class Count(BaseModel):
    key: str
    count: int


class WorkOrderSummary(BaseModel):
    total: int
    by_status: dict[str, int]
    overdue: int


class EquipmentSummary(BaseModel):
    total: int
    by_status: dict[str, int]
    calibration_due: int = Field(description="Overdue or due within `days`")
    validation_due: int = Field(
        description="Machines requiring validation (IEC 60974-14) never validated, overdue or "
        "due within `days`"
    )


class InspectionSummary(BaseModel):
    total: int
    passed: int
    pass_rate: float


class QualificationAlert(BaseModel):
    qualification_id: int
    employee_id: int
    employee_name: str
    certificate_number: str
    process: str
    expires_on: dt.date | None
    last_confirmed_on: dt.date | None
    reason: Literal["expired", "expiring", "continuity_overdue", "process_clock"]


class OverrideAlert(BaseModel):
    """A welder assigned to a weld the engine did not find them qualified for."""

    id: int = Field(description="The weld")
    reference: str
    work_order_id: int
    order_id: str
    welder_id: int | None
    override_by: str | None
    override_at: dt.datetime
    override_reason: str | None


class Stats(BaseModel):
    work_orders: WorkOrderSummary
    equipment: EquipmentSummary
    inspections: InspectionSummary
    inventory_alerts: int
    qualifications_expiring: int
    qualification_alerts: list[QualificationAlert]
    assignment_overrides: list[OverrideAlert]


class OverdueOrder(BaseModel):
    id: int
    order_id: str
    client: str
    due_date: dt.date
    days_overdue: int
    status: str
    priority: str
    assigned_welder_name: str | None


class WeekCount(BaseModel):
    week: dt.date
    count: int


class WorkOrderDashboard(BaseModel):
    by_status: dict[str, int]
    by_priority: dict[str, int]
    overdue: list[OverdueOrder]
    completed_per_week: list[WeekCount]
    on_time_rate: float = Field(
        description="Completed on or before the due date / completed with a due date"
    )
    lead_time_days: float | None = Field(description="Mean days from creation to completion")


class CalibrationItem(BaseModel):
    id: int
    code: str
    name: str
    type: str
    next_calibration_due: dt.date
    days_left: int


class ValidationItem(BaseModel):
    machine_id: int
    code: str
    name: str
    type: str
    last_validated_on: dt.date | None
    validation_due: dt.date | None = Field(description="null: never validated")
    days_left: int | None = Field(description="null: never validated")


class EquipmentDashboard(BaseModel):
    by_status: dict[str, int]
    by_type: dict[str, int]
    calibration_overdue: list[CalibrationItem]
    calibration_due_soon: list[CalibrationItem]
    validation_overdue: list[ValidationItem] = Field(
        description="Machines requiring validation never validated (first) or whose "
        "validation was due before today"
    )
    validation_due_soon: list[ValidationItem] = Field(
        description="Machines whose validation is due between today and today + `days`"
    )


class Quality(BaseModel):
    key: str
    inspections: int
    passed: int
    pass_rate: float
    welds: int
    first_pass: int
    first_pass_yield: float
    repaired: int
    repair_rate: float


class DefectCount(BaseModel):
    code: int
    count: int
    share: float
    cumulative_share: float


class WeekQuality(BaseModel):
    week: dt.date
    inspections: int
    passed: int
    pass_rate: float


class InspectionDashboard(BaseModel):
    overall: Quality
    by_welder: list[Quality]
    by_machine: list[Quality]
    by_method: list[Quality]
    by_client: list[Quality]
    defects: list[DefectCount]
    weekly: list[WeekQuality]


class InventoryAlert(BaseModel):
    id: int
    item_id: str
    item_name: str
    category: str
    unit: str
    quantity: float
    reorder_level: float
    suggested_order: float


class ProductionPoint(BaseModel):
    machine_id: int
    bucket: dt.date
    entries: int
    value: float | None = Field(description="sum/avg/min/max of `field` in the bucket")


class Production(BaseModel):
    bucket: str
    field: str | None
    agg: str
    points: list[ProductionPoint]


class ConformanceQuery(DashboardQuery):
    group_by: Literal["wps", "welder", "machine", "work_order"] = "wps"


class ConformanceGroup(BaseModel):
    key: int = Field(description="The id of the WPS, welder, machine or work order")
    label: str = Field(description="WPS number and revision, welder's name, ...")
    runs: int = Field(description="Runs judged (tacks not counted)")
    in_range: int = Field(description="Runs with verdict pass")
    share_in_range: float = Field(description="in_range / runs; 0 without runs")
    failed: int
    not_checkable: int
    top_failing_parameter: str | None = Field(
        description="The parameter most runs failed on (current, voltage, wire_feed, "
        "travel_speed, heat_input, qualification, wps, process); null without failures"
    )
    failing_parameters: dict[str, int] = Field(description="Runs failed, per parameter")


class ConformanceDashboard(BaseModel):
    group_by: str
    total: ConformanceGroup = Field(description="Every run of the period (key 0)")
    groups: list[ConformanceGroup] = Field(description="Most runs first")
