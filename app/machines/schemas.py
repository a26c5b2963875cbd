from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

from pydantic import Field

from app.core.history import CheckDay, CheckFields, CheckRead
from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial
from app.models import MachineStatus, MachineType


class MachineCreate(InputModel):
    __orm_names__: ClassVar[dict[str, str]] = {"metadata": "metadata_"}

    code: str = Field(min_length=1, max_length=50, examples=["MIG-01"])
    name: str = Field(min_length=1, max_length=200, examples=["Fronius TPS 500i, cell 1"])
    type: MachineType
    manufacturer: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    serial_number: str | None = Field(default=None, max_length=100)
    location: str | None = Field(default=None, max_length=100)
    status: MachineStatus = MachineStatus.active
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form JSON object")
    validation_interval_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Days between validations of the machine's meters (IEC 60974-14); "
        "null: no validation required",
    )


MachineUpdate = partial(MachineCreate, "MachineUpdate")


class MachineRead(ResourceRead):
    code: str
    name: str
    type: MachineType
    manufacturer: str | None
    model: str | None
    serial_number: str | None
    location: str | None
    status: MachineStatus
    metadata: dict[str, Any] = Field(validation_alias="metadata_")
    validation_interval_days: int | None
    last_validated_on: dt.date | None = Field(description="Derived: the latest validation")
    validation_due: dt.date | None = Field(
        description="Derived from the latest validation: + validation_interval_days after a "
        "pass or adjusted result, its own day after a fail; null without a validation"
    )


class MachineQuery(ListQuery):
    sort_by: Literal[
        "id", "code", "name", "type", "status", "location", "created_at", "updated_at"
    ] = "id"
    type: MachineType | None = None
    status: MachineStatus | None = None
    location: str | None = Field(default=None, description="Exact location")
    q: str | None = Field(default=None, description="Contains, in code or name (any case)")


class ValidationCreate(CheckFields):
    validated_on: CheckDay = Field(description="The day of the validation; not in the future")


class ValidationRead(CheckRead):
    machine_id: int
    validated_on: dt.date
    next_due: dt.date | None = Field(
        description="validated_on + the machine's interval (pass, adjusted); validated_on for "
        "a fail; null without an interval"
    )


class ValidationQuery(ListQuery):
    sort_by: Literal["validated_on", "id"] = "validated_on"
    order: Literal["asc", "desc"] = "desc"
