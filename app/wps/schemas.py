from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ReadModel, ResourceRead, partial
from app.models import Joint, PassLayer, Progression, WpsStandard, WpsStatus

Position = Literal["PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH", "PJ", "H-L045", "J-L045"]
Process = Annotated[
    str, Field(pattern=r"^\d{2,3}$", description="ISO 4063 process number", examples=["135"])
]
MaterialGroup = Annotated[
    str, Field(pattern=r"^\d{1,2}(\.\d{1,2})?$", description="ISO/TR 15608 group", examples=["1.2"])
]
Measure = Annotated[float, Field(ge=0, le=1_000_000)]
PARAMETERS = ("current", "voltage", "wire_feed", "travel_speed", "heat_input")


def ranges_in_order(model: Any, names: tuple[str, ...]) -> None:
    for name in names:
        low, high = getattr(model, f"{name}_min"), getattr(model, f"{name}_max")
        if low is not None and high is not None and low > high:
            raise ValueError(f"{name}_min is above {name}_max")


class PassCreate(InputModel):
    """One pass, in welding order; any end of a range may be left open (null). Units: A, V,
    mm/s, mm/s, kJ/mm."""

    seq: int = Field(ge=1, le=1000, description="Order of the pass (1 = first)")
    layer: PassLayer
    current_min: Measure | None = None
    current_max: Measure | None = None
    voltage_min: Measure | None = None
    voltage_max: Measure | None = None
    wire_feed_min: Measure | None = None
    wire_feed_max: Measure | None = None
    travel_speed_min: Measure | None = None
    travel_speed_max: Measure | None = None
    heat_input_min: Measure | None = None
    heat_input_max: Measure | None = None

    @model_validator(mode="after")
    def _in_order(self) -> PassCreate:
        ranges_in_order(self, PARAMETERS)
        return self


class PassRead(ReadModel):
    seq: int
    layer: PassLayer
    current_min: float | None
    current_max: float | None
    voltage_min: float | None
    voltage_max: float | None
    wire_feed_min: float | None
    wire_feed_max: float | None
    travel_speed_min: float | None
    travel_speed_max: float | None
    heat_input_min: float | None
    heat_input_max: float | None


class WpsCreate(InputModel):
    """A WPS is created as a draft, revision 0. Its passes come with it, in order."""

    number: str = Field(min_length=1, max_length=50, examples=["WPS-135-01"])
    standard: WpsStandard
    pqr_references: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20, description="WPQR/PQR numbers it rests on"
    )
    process: Process
    joint: Joint
    material_groups: list[MaterialGroup] = Field(default_factory=list, max_length=10)
    thickness_min: Measure | None = None
    thickness_max: Measure | None = None
    diameter_min: Measure | None = Field(default=None, description="Pipe; null for plate")
    diameter_max: Measure | None = None
    positions: list[Position] = Field(default_factory=list, max_length=11)
    progression: Progression | None = None
    filler: str | None = Field(
        default=None, max_length=100, examples=["ISO 14341-A G 42 4 M21 3Si1"]
    )
    filler_diameter: Measure | None = None
    gas: str | None = Field(default=None, max_length=50, examples=["M21"])
    gas_flow_min: Measure | None = None
    gas_flow_max: Measure | None = None
    preheat_min_c: float | None = Field(default=None, ge=-50, le=1000)
    interpass_max_c: float | None = Field(default=None, ge=-50, le=1000)
    notes: str | None = Field(default=None, max_length=10_000)
    passes: list[PassCreate] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _consistent(self) -> WpsCreate:
        ranges_in_order(self, ("thickness", "diameter", "gas_flow"))
        seqs = [p.seq for p in self.passes]
        if len(set(seqs)) != len(seqs):
            raise ValueError("passes: each seq once")
        if len(set(self.positions)) != len(self.positions):
            raise ValueError("positions: each position once")
        if len(set(self.material_groups)) != len(self.material_groups):
            raise ValueError("material_groups: each group once")
        return self


WpsUpdate = partial(WpsCreate, "WpsUpdate")


class WpsRead(ResourceRead):
    number: str
    revision: int
    status: WpsStatus
    standard: WpsStandard
    pqr_references: list[str]
    process: str
    joint: Joint
    material_groups: list[str]
    thickness_min: float | None
    thickness_max: float | None
    diameter_min: float | None
    diameter_max: float | None
    positions: list[str]
    progression: Progression | None
    filler: str | None
    filler_diameter: float | None
    gas: str | None
    gas_flow_min: float | None
    gas_flow_max: float | None
    preheat_min_c: float | None
    interpass_max_c: float | None
    notes: str | None
    approved_at: dt.datetime | None
    approved_by: str | None
    supersedes_id: int | None = Field(description="The revision this one replaces")
    passes: list[PassRead]

    @field_validator("material_groups", "positions", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return [v for v in value.split(",") if v] if isinstance(value, str) else value


class WpsQuery(ListQuery):
    sort_by: Literal["id", "number", "revision", "process", "status", "created_at"] = "id"
    number: str | None = Field(default=None, description="Contains (any case)")
    process: str | None = None
    status: WpsStatus | None = None
    joint: Joint | None = None
    material_group: str | None = Field(default=None, description="Covers this group")
