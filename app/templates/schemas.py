from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.conformance.checks import UNITS
from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial
from app.imports.mapping import RUN_BOOLEAN_FIELDS, RUN_NUMBER_FIELDS, RUN_TEXT_FIELDS, TACK


class FieldType(StrEnum):
    string = "string"
    integer = "integer"
    number = "number"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"


class MappingColumn(InputModel):
    """One Excel column and the entry field it fills."""

    column: str = Field(min_length=1, max_length=200, description="Header text in the file")
    field: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$", examples=["arc_time_s"])
    type: FieldType = FieldType.string
    required: bool = False
    default: str | int | float | bool | None = Field(
        default=None, description="Used when the cell is empty"
    )
    unit: str | None = Field(
        default=None,
        max_length=20,
        description="A measured run field's unit in the file, converted on import to the "
        "canonical one (mm, s, A, V, mm/s, J); empty = already canonical",
        examples=["m/min"],
    )


JobNumber = Annotated[str, StringConstraints(min_length=1, max_length=50, strip_whitespace=True)]
WpsNumber = Annotated[str, StringConstraints(min_length=1, max_length=50, strip_whitespace=True)]


class TemplateCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    machine_id: int
    sheet: str | None = Field(
        default=None, max_length=100, description="Sheet name; empty = the first sheet"
    )
    header_row: int = Field(default=1, ge=1, le=1000, description="1-based row of the headers")
    mapping: list[MappingColumn] = Field(min_length=1, max_length=200)
    timestamp_field: str | None = Field(
        default=None, description="The mapped date/datetime field that dates an entry"
    )
    timezone: str = Field(
        default="UTC", description="IANA zone for times the file gives without an offset"
    )
    min_arc_time_s: float | None = Field(
        default=None,
        ge=0,
        le=86_400,
        description="A run with a shorter arc_time_s is a tack: kept, with tack: true in its data",
    )
    job_map: dict[JobNumber, WpsNumber] | None = Field(
        default=None,
        max_length=1000,
        description="The machine's job numbers (stored parameter sets) and the WPS number "
        "each welds to: how a run with a job_number column finds its WPS",
        examples=[{"12": "WPS-101"}],
    )
    active: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("mapping")
    @classmethod
    def _run_fields(cls, mapping: list[MappingColumn]) -> list[MappingColumn]:
        # Checked here, not on MappingColumn, so that a template stored before run fields
        # existed still reads; it must be put right on its next write.
        numbers = (FieldType.number, FieldType.integer)
        for index, m in enumerate(mapping):
            where = f"mapping.{index} ({m.field})"
            if m.field in RUN_TEXT_FIELDS and m.type != FieldType.string:
                raise ValueError(f"{where}: a run field of text needs type string")
            if m.field in RUN_NUMBER_FIELDS and m.type not in numbers:
                raise ValueError(f"{where}: a measured run field needs type number or integer")
            if m.field in RUN_BOOLEAN_FIELDS and m.type != FieldType.boolean:
                raise ValueError(f"{where}: {m.field} needs type boolean")
            if m.unit is None:
                continue
            if m.field not in UNITS:
                raise ValueError(f"{where}: only a measured run field may have a unit")
            if m.unit not in UNITS[m.field]:
                known = ", ".join(UNITS[m.field])
                raise ValueError(f"{where}: unknown unit {m.unit!r} (one of {known})")
        return mapping

    @model_validator(mode="after")
    def _consistent_mapping(self) -> TemplateCreate:
        fields = [m.field for m in self.mapping]
        if len(set(fields)) != len(fields):
            raise ValueError("mapping: each field may be filled by one column only")
        columns = [m.column.strip().casefold() for m in self.mapping]
        if len(set(columns)) != len(columns):
            raise ValueError("mapping: a column appears twice")
        if self.timestamp_field is not None:
            kinds = {m.field: m.type for m in self.mapping}
            if kinds.get(self.timestamp_field) not in (FieldType.date, FieldType.datetime):
                raise ValueError("timestamp_field must be a mapped field of type date or datetime")
        if self.job_map and "job_number" not in fields:
            raise ValueError("job_map needs a column mapped to job_number")
        if self.min_arc_time_s is not None:
            if "arc_time_s" not in fields:
                raise ValueError("min_arc_time_s needs a column mapped to arc_time_s")
            if TACK in fields:
                raise ValueError(f"mapping: {TACK!r} is set by min_arc_time_s, not by a column")
        return self


TemplateUpdate = partial(TemplateCreate, "TemplateUpdate")


class TemplateRead(ResourceRead):
    name: str
    machine_id: int
    sheet: str | None
    header_row: int
    mapping: list[MappingColumn]
    timestamp_field: str | None
    timezone: str
    min_arc_time_s: float | None
    job_map: dict[str, str] | None
    active: bool


class TemplateQuery(ListQuery):
    sort_by: Literal["id", "name", "machine_id", "created_at", "updated_at"] = "id"
    machine_id: int | None = None
    active: bool | None = None
    q: str | None = Field(default=None, description="Contains, in the name (any case)")
