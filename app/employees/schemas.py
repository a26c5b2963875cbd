from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, model_validator

from app.core import clock
from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial
from app.models import (
    EmployeeRole,
    Joint,
    Product,
    QualificationStandard,
    Revalidation,
    TransferMode,
)
from app.wps.schemas import Position


class EmployeeCreate(InputModel):
    employee_number: str = Field(min_length=1, max_length=50, examples=["E-0042"])
    badge: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="The welder's id as the machines log it (unique)",
        examples=["0457"],
    )
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
    badge: str | None
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
    badge: str | None = Field(default=None, description="Exactly this badge")
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
    product: Product | None = Field(default=None, description="Test piece: P plate, T pipe")
    joint: Joint | None = Field(default=None, description="Test piece: BW butt, FW fillet")
    test_thickness: float | None = Field(
        default=None, gt=0, le=1000, description="Deposited thickness s (BW) or plate t (FW), mm"
    )
    test_diameter: float | None = Field(
        default=None, gt=0, le=10_000, description="Pipe outside diameter D, mm"
    )
    test_position: Position | None = None
    transfer_mode: TransferMode | None = Field(
        default=None, description="For 131/135/138: short_circuit covers the others"
    )
    fillet_supplement: bool = Field(
        default=False, description="A BW test with the supplementary fillet test (covers FW)"
    )
    revalidation: Revalidation | None = None
    notes: str | None = Field(default=None, max_length=10_000)
    issued_on: dt.date
    expires_on: dt.date | None = None
    last_confirmed_on: dt.date | None = Field(
        default=None, description="Last 6-month continuity confirmation (ISO 9606-1, 9.2)"
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> QualificationCreate:
        piece = (self.product, self.joint, self.test_thickness, self.test_position)
        if any(v is not None for v in piece) and any(v is None for v in piece):
            raise ValueError(
                "a test piece needs product, joint, test_thickness and test_position together"
            )
        if self.product == Product.T and self.test_diameter is None:
            raise ValueError("a pipe test piece (product T) needs test_diameter")
        if self.expires_on is not None and self.expires_on < self.issued_on:
            raise ValueError("expires_on is before issued_on")
        if (
            self.last_confirmed_on is not None
            and self.last_confirmed_on > clock.today() + dt.timedelta(days=1)
        ):
            raise ValueError("last_confirmed_on is in the future")
        if self.last_confirmed_on is not None and self.last_confirmed_on < self.issued_on:
            raise ValueError("last_confirmed_on is before issued_on")
        return self


QualificationUpdate = partial(QualificationCreate, "QualificationUpdate")


class Ranges(BaseModel):
    """What the test piece qualifies for, derived from the ISO 9606-1 tables; `clauses` names
    the rule behind each part, `unverified` the parts that rest on a rule not yet checked."""

    processes: list[str]
    joints: list[str]
    thickness_min: float
    thickness_max: float | None
    diameter_min: float | None
    diameter_max: float | None
    covers_plate: bool
    positions: list[str]
    material_groups: list[str]
    transfer_modes: list[str] | None
    clauses: dict[str, str]
    unverified: list[str]


class QualificationRead(ResourceRead):
    employee_id: int
    standard: QualificationStandard
    process: str
    certificate_number: str
    material_group: str | None
    product: Product | None
    joint: Joint | None
    test_thickness: float | None
    test_diameter: float | None
    test_position: str | None
    transfer_mode: TransferMode | None
    fillet_supplement: bool
    revalidation: Revalidation | None
    notes: str | None
    issued_on: dt.date
    expires_on: dt.date | None
    last_confirmed_on: dt.date | None
    last_welded_on: dt.date | None
    ranges: Ranges | None = Field(
        description="Derived (ISO 9606-1 with a test piece); null otherwise"
    )


class ConfirmRequest(InputModel):
    confirmed_on: dt.date | None = Field(
        default=None, description="Default: today (the workshop's)"
    )
    evidence: str | None = Field(
        default=None, max_length=10_000, description="What shows the welder worked in range"
    )


class QualificationQuery(ListQuery):
    sort_by: Literal["id", "issued_on", "expires_on", "certificate_number", "process"] = "id"
    standard: QualificationStandard | None = None
    process: str | None = None
    expires_from: dt.date | None = None
    expires_to: dt.date | None = None
