from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ResourceRead, partial
from app.models import MachineStatus, MachineType


class MachineCreate(InputModel):
    __orm_names__: ClassVar[dict[str, str]] = {"metadata": "metadata_"}

    code: str = Field(min_length=1, max_length=50, examples=["MIG-01"])
    name: str = Field(min_length=1, max_length=200, examples=["Fronius TPS 500i, cell 1"])
    type: MachineType
    manufacturer: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    serial_number: str | None = Field(default=None, max_length=100)
    location: str | None = Field(default=None, max_length=100)
    status: MachineStatus = MachineStatus.active
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form JSON object")


MachineUpdate = partial(MachineCreate, "MachineUpdate")


class MachineRead(ResourceRead):
    code: str
    name: str
    type: MachineType
    manufacturer: str | None
    model: str | None
    serial_number: str | None
    location: str | None
    status: MachineStatus
    metadata: dict[str, Any] = Field(validation_alias="metadata_")


class MachineQuery(ListQuery):
    sort_by: Literal[
        "id", "code", "name", "type", "status", "location", "created_at", "updated_at"
    ] = "id"
    type: MachineType | None = None
    status: MachineStatus | None = None
    location: str | None = Field(default=None, description="Exact location")
    q: str | None = Field(default=None, description="Contains, in code or name (any case)")
