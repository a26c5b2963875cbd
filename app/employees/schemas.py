from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import EmailStr, Field, model_validator

from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial
from app.models import EmployeeRole, QualificationStandard


class EmployeeCreate(InputModel):
    employee_number: str = Field(min_length=1, max_length=50, examples=["E-0042"])
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    role: EmployeeRole
    department: str | None = Field(default=None, max_length=100)
    hire_date: dt.date | None = None
    active: bool = True


EmployeeUpdate = partial(EmployeeCreate, "EmployeeUpdate")


class EmployeeRead(ResourceRead):
    employee_number: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    role: EmployeeRole
    department: str | None
    hire_date: dt.date | None
    active: bool


class EmployeeQuery(ListQuery):
    sort_by: Literal[
        "id", "employee_number", "last_name", "first_name", "role", "hire_date", "created_at"
    ] = "id"
    role: EmployeeRole | None = None
    active: bool | None = None
    department: str | None = None
    q: str | None = Field(default=None, description="Contains, in number or names (any case)")
    hire_from: dt.date | None = None
    hire_to: dt.date | None = None
    qualification_expires_before: dt.date | None = Field(
        default=None, description="Has a qualification that expires before this date"
    )


class QualificationCreate(InputModel):
    standard: QualificationStandard
    process: str = Field(
        pattern=r"^\d{2,3}$", description="ISO 4063 process number", examples=["135", "141"]
    )
    certificate_number: str = Field(min_length=1, max_length=100)
    material_group: str | None = Field(default=None, max_length=50, examples=["1.1"])
    positions: str | None = Field(default=None, max_length=100, examples=["PA, PB, PF"])
    thickness_range: str | None = Field(default=None, max_length=50, examples=["3-30 mm"])
    issued_on: dt.date
    expires_on: dt.date | None = None
    last_confirmed_on: dt.date | None = Field(
        default=None, description="Last 6-month continuity confirmation (ISO 9606-1, 9.2)"
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> QualificationCreate:
        if self.expires_on is not None and self.expires_on < self.issued_on:
            raise ValueError("expires_on is before issued_on")
        if self.last_confirmed_on is not None and self.last_confirmed_on < self.issued_on:
            raise ValueError("last_confirmed_on is before issued_on")
        return self


QualificationUpdate = partial(QualificationCreate, "QualificationUpdate")


class QualificationRead(ResourceRead):
    employee_id: int
    standard: QualificationStandard
    process: str
    certificate_number: str
    material_group: str | None
    positions: str | None
    thickness_range: str | None
    issued_on: dt.date
    expires_on: dt.date | None
    last_confirmed_on: dt.date | None


class QualificationQuery(ListQuery):
    sort_by: Literal["id", "issued_on", "expires_on", "certificate_number", "process"] = "id"
    standard: QualificationStandard | None = None
    process: str | None = None
    expires_from: dt.date | None = None
    expires_to: dt.date | None = None
