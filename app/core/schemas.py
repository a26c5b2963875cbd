"""Schema bases: inputs refuse unknown fields; outputs read from ORM attributes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ResourceRead(ReadModel):
    id: int
    created_at: datetime
    updated_at: datetime
    version: int
