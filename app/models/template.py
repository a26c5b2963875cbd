from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import BigId, Resource
from app.models.types import Json, OptionalJson


class Template(Resource):
    """How one machine's Excel export maps to workshop-entry fields."""

    __tablename__ = "templates"
    __table_args__ = (CheckConstraint("header_row >= 1", name="header_row_positive"),)

    name: Mapped[str] = mapped_column(String(200), unique=True)
    machine_id: Mapped[int] = mapped_column(BigId, ForeignKey("machines.id"), index=True)
    sheet: Mapped[str | None] = mapped_column(String(100))
    header_row: Mapped[int] = mapped_column(Integer, default=1)
    mapping: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    timestamp_field: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # A run with a shorter arc time is a tack weld: kept, marked `tack` in its data.
    min_arc_time_s: Mapped[float | None] = mapped_column(Float)
    # The machine's job numbers (stored parameter sets) and the WPS number each one welds to.
    job_map: Mapped[dict[str, str] | None] = mapped_column(OptionalJson)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
