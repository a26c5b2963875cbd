from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import BigId, Resource, UTCDateTime
from app.models.types import enum_column
from app.models.wps import Joint


class WeldStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    welded = "welded"
    accepted = "accepted"
    rejected = "rejected"


class Weld(Resource):
    """A joint of a work order: what is welded, under which WPS, by whom. Its `reference` is
    the one inspections and the machines' exports carry."""

    __tablename__ = "welds"
    __label__ = "Weld"
    __table_args__ = (UniqueConstraint("work_order_id", "reference"),)

    work_order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(100))
    wps_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("wps.id"), index=True)
    process: Mapped[str | None] = mapped_column(String(10))
    joint: Mapped[Joint] = enum_column(Joint)
    thickness: Mapped[float] = mapped_column(Float)
    diameter: Mapped[float | None] = mapped_column(Float)
    position: Mapped[str] = mapped_column(String(10))
    material_group: Mapped[str | None] = mapped_column(String(20))
    length_mm: Mapped[float | None] = mapped_column(Float)
    welder_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employees.id"), index=True)
    status: Mapped[WeldStatus] = enum_column(WeldStatus, default=WeldStatus.planned, index=True)
    # A manager's override of the qualification gate: who, when, why.
    override_by: Mapped[str | None] = mapped_column(String(100))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    override_reason: Mapped[str | None] = mapped_column(String(1000))
