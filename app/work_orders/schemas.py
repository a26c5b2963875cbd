from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from app.core.pagination import ExportOptions, ListQuery
from app.core.schemas import InputModel, ResourceRead, UTCDateTime, partial
from app.models import Priority, WorkOrderStatus


class WorkOrderCreate(InputModel):
    order_id: str = Field(min_length=1, max_length=50, examples=["WO-2026-0001"])
    client: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    assigned_welder_id: int | None = Field(default=None, description="Employee id")
    machine_id: int | None = None
    wps_number: str | None = Field(
        default=None, max_length=50, description="Welding procedure specification, as text"
    )
    wps_id: int | None = Field(default=None, description="An approved WPS of the register")
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    status: WorkOrderStatus = WorkOrderStatus.open
    priority: Priority = Priority.normal
    due_date: dt.date | None = None
    started_at: UTCDateTime | None = None
    completed_at: UTCDateTime | None = None
    notes: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _times_in_order(self) -> WorkOrderCreate:
        if self.started_at and self.completed_at and self.completed_at < self.started_at:
            raise ValueError("completed_at is before started_at")
        return self


WorkOrderUpdate = partial(WorkOrderCreate, "WorkOrderUpdate")


class WorkOrderRead(ResourceRead):
    order_id: str
    client: str
    description: str | None
    assigned_welder_id: int | None
    assigned_welder_name: str | None
    machine_id: int | None
    wps_number: str | None
    wps_id: int | None
    quantity: int
    status: WorkOrderStatus
    priority: Priority
    due_date: dt.date | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    notes: str | None


class WorkOrderQuery(ListQuery):
    sort_by: Literal[
        "id", "order_id", "client", "due_date", "status", "priority", "created_at", "updated_at"
    ] = "id"
    status: WorkOrderStatus | None = None
    priority: Priority | None = None
    client: str | None = Field(default=None, description="Contains (any case)")
    assigned_welder_id: int | None = None
    machine_id: int | None = None
    q: str | None = Field(default=None, description="Contains, in order id or description")
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    created_from: UTCDateTime | None = None
    created_to: UTCDateTime | None = None
    overdue: bool | None = Field(
        default=None, description="Due before today and neither completed nor cancelled"
    )


class WorkOrderExport(ExportOptions, WorkOrderQuery):
    pass
