from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import BigId, Resource, UTCDateTime
from app.models.types import Json, enum_column


class WpsStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    superseded = "superseded"


class WpsStandard(StrEnum):
    iso_15614_1 = "ISO 15614-1"
    asme_ix = "ASME IX"
    other = "other"


class Joint(StrEnum):
    BW = "BW"  # butt weld
    FW = "FW"  # fillet weld


class Progression(StrEnum):
    up = "up"
    down = "down"


class PassLayer(StrEnum):
    root = "root"
    fill = "fill"
    cap = "cap"
    single = "single"


class Wps(Resource):
    """A welding procedure specification (ISO 15609-1 / ASME QW-482), one row per revision.

    An approved revision is not edited in place: a new revision (a draft copy) is approved in its
    place and the old one becomes `superseded`. Only an approved revision goes on new work."""

    __tablename__ = "wps"
    __label__ = "WPS"
    __table_args__ = (UniqueConstraint("number", "revision"),)

    number: Mapped[str] = mapped_column(String(50), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[WpsStatus] = enum_column(WpsStatus, default=WpsStatus.draft, index=True)
    standard: Mapped[WpsStandard] = enum_column(WpsStandard)
    pqr_references: Mapped[list[str]] = mapped_column(Json, default=list)
    process: Mapped[str] = mapped_column(String(10), index=True)
    joint: Mapped[Joint] = enum_column(Joint)
    # Comma-joined lists: filterable with LIKE on every database ("1.1,1.2", "PA,PF").
    material_groups: Mapped[str] = mapped_column(String(200), default="")
    positions: Mapped[str] = mapped_column(String(200), default="")
    thickness_min: Mapped[float | None] = mapped_column(Float)
    thickness_max: Mapped[float | None] = mapped_column(Float)
    diameter_min: Mapped[float | None] = mapped_column(Float)
    diameter_max: Mapped[float | None] = mapped_column(Float)
    progression: Mapped[Progression | None] = enum_column(Progression, nullable=True)
    filler: Mapped[str | None] = mapped_column(String(100))
    filler_diameter: Mapped[float | None] = mapped_column(Float)
    gas: Mapped[str | None] = mapped_column(String(50))
    gas_flow_min: Mapped[float | None] = mapped_column(Float)
    gas_flow_max: Mapped[float | None] = mapped_column(Float)
    preheat_min_c: Mapped[float | None] = mapped_column(Float)
    interpass_max_c: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(100))
    supersedes_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("wps.id", ondelete="SET NULL"), index=True
    )

    passes: Mapped[list[WpsPass]] = relationship(
        lazy="raise",
        order_by="WpsPass.seq",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class WpsPass(Resource):
    """One pass of a WPS (root, fill, cap...), in welding order, with its parameter ranges;
    any end of a range may be left open."""

    __tablename__ = "wps_passes"
    __label__ = "WPS pass"
    __table_args__ = (UniqueConstraint("wps_id", "seq"),)

    wps_id: Mapped[int] = mapped_column(BigId, ForeignKey("wps.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    layer: Mapped[PassLayer] = enum_column(PassLayer)
    current_min: Mapped[float | None] = mapped_column(Float)
    current_max: Mapped[float | None] = mapped_column(Float)
    voltage_min: Mapped[float | None] = mapped_column(Float)
    voltage_max: Mapped[float | None] = mapped_column(Float)
    wire_feed_min: Mapped[float | None] = mapped_column(Float)
    wire_feed_max: Mapped[float | None] = mapped_column(Float)
    travel_speed_min: Mapped[float | None] = mapped_column(Float)
    travel_speed_max: Mapped[float | None] = mapped_column(Float)
    heat_input_min: Mapped[float | None] = mapped_column(Float)
    heat_input_max: Mapped[float | None] = mapped_column(Float)
