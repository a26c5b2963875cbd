"""The work-order dossier: what an auditor asks for about a delivered part (ISO 3834, EN 1090)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class DossierWps(BaseModel):
    id: int
    number: str
    revision: int
    status: str
    standard: str
    process: str


class DossierQualification(BaseModel):
    """The qualification that covered the welder for the weld on the day (or came closest)."""

    on: dt.date = Field(description="The day asked: the weld's last run, else today")
    qualified: bool
    qualification_id: int | None
    certificate_number: str | None
    standard: str | None
    reasons: list[str] = Field(description="Why not, per variable and validity; empty if covered")


class DossierWelder(BaseModel):
    id: int
    name: str
    employee_number: str
    badge: str | None


class DossierRuns(BaseModel):
    runs: int
    passed: int
    failed: int
    not_checkable: int
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    failing: list[str] = Field(description="Reasons of failed runs, at most 20")


class DossierLot(BaseModel):
    lot_id: int
    lot_number: str
    item_name: str
    quantity: Decimal


class DossierDefect(BaseModel):
    code: int
    description: str | None
    count: int


class DossierInspection(BaseModel):
    id: int
    method: str
    result: str
    quality_level: str | None = Field(description="ISO 5817 level: B, C or D")
    defects: list[DossierDefect] = Field(description="ISO 6520-1 codes")
    inspected_at: dt.datetime
    inspector: str | None


class DossierAttachment(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int


class DossierWeld(BaseModel):
    id: int
    reference: str
    joint: str
    thickness: float
    diameter: float | None
    position: str
    material_group: str | None
    process: str | None
    status: str
    wps: DossierWps | None
    welder: DossierWelder | None
    qualification: DossierQualification | None
    override: dict[str, Any] | None
    conformance: DossierRuns
    lots: list[DossierLot]
    inspections: list[DossierInspection]
    attachments: list[DossierAttachment]


class DossierAudit(BaseModel):
    events: int
    by_action: dict[str, int]
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    recent: list[dict[str, Any]] = Field(description="The latest events, at most 20")


class Dossier(BaseModel):
    generated_at: dt.datetime
    work_order: dict[str, Any]
    welds: list[DossierWeld]
    lots: list[DossierLot] = Field(description="Every lot that went into the work order")
    inspections: list[DossierInspection] = Field(description="Inspections not of a weld")
    attachments: list[DossierAttachment]
    audit: DossierAudit
