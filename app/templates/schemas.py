from __future__ import annotations

from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial


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
    active: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

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
    active: bool


class TemplateQuery(ListQuery):
    sort_by: Literal["id", "name", "machine_id", "created_at", "updated_at"] = "id"
    machine_id: int | None = None
    active: bool | None = None
    q: str | None = Field(default=None, description="Contains, in the name (any case)")
