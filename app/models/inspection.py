from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, Resource, UTCDateTime
from app.models.types import Json, enum_column


class InspectionMethod(StrEnum):
    VT = "VT"  # visual
    RT = "RT"  # radiographic
    UT = "UT"  # ultrasonic
    MT = "MT"  # magnetic particle
    PT = "PT"  # penetrant
    DT = "DT"  # destructive
    LT = "LT"  # leak


class InspectionResult(StrEnum):
    passed = "Pass"
    failed = "Fail"
    rework = "Rework"


class QualityLevel(StrEnum):
    """ISO 5817 quality levels: B stringent, C intermediate, D moderate."""

    B = "B"
    C = "C"
    D = "D"


class Inspection(Resource):
    __tablename__ = "inspections"
    # Cover the quality dashboard's per-welder, per-machine and per-method figures (inspection
    # and weld counts read the index alone).
    __table_args__ = (
        *(
            Index(f"ix_inspections_{key}_quality", key, "result", "first_of_weld", "weld_repaired")
            for key in ("welder_id", "machine_id", "method")
        ),
        Index("ix_inspections_inspected_at_result", "inspected_at", "result"),
    )

    work_order_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("work_orders.id"), index=True
    )
    machine_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("machines.id"), index=True)
    welder_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employees.id"), index=True)
    inspector_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employees.id"), index=True)
    method: Mapped[InspectionMethod] = enum_column(InspectionMethod, index=True)
    result: Mapped[InspectionResult] = enum_column(InspectionResult, index=True)
    weld_reference: Mapped[str | None] = mapped_column(String(100), index=True)
    weld_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("welds.id", ondelete="SET NULL"), index=True
    )
    quality_level: Mapped[QualityLevel | None] = enum_column(
        QualityLevel, nullable=True, index=True
    )
    defects: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notes: Mapped[str | None] = mapped_column(Text)
    # Kept by app.inspections.service on every write, so quality figures need no window over
    # all inspections: is this the weld's first inspection; did the weld ever need a repair.
    first_of_weld: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    weld_repaired: Mapped[bool] = mapped_column(Boolean, default=False)


class InspectionDayTotal(Base):
    """Per workshop day (WORKSHOP_TIMEZONE, ADR 0036) and key of one dimension — `all` (key
    ''), `welder`, `machine` (ids), `method`, `client` ('' for none) — the inspection and weld
    figures of the quality dashboard; `defect` keys are ISO 6520-1 codes whose `inspections`
    count imperfections. Kept by adding each write's difference in the same transaction
    (app.inspections.totals), so the dashboard reads these rows instead of every inspection
    (ADR 0020)."""

    __tablename__ = "inspection_day_totals"
    __table_args__ = (UniqueConstraint("day", "dimension", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(200))
    inspections: Mapped[int] = mapped_column(BigInteger)
    passed: Mapped[int] = mapped_column(BigInteger)
    welds: Mapped[int] = mapped_column(BigInteger)
    first_pass: Mapped[int] = mapped_column(BigInteger)
    repaired: Mapped[int] = mapped_column(BigInteger)
