from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core.pagination import ExportOptions, ListQuery
from app.core.schemas import ReadModel, UTCDateTime


class EntryRead(ReadModel):
    id: int
    template_id: int
    machine_id: int
    import_id: int | None
    row_number: int
    recorded_at: dt.datetime | None
    data: dict[str, Any]
    created_at: dt.datetime


class EntryQuery(ListQuery):
    sort_by: Literal["id", "recorded_at"] = "id"
    machine_id: int | None = None
    template_id: int | None = None
    import_id: int | None = None
    recorded_from: UTCDateTime | None = None
    recorded_to: UTCDateTime | None = None
    after_id: int | None = Field(
        default=None,
        ge=0,
        description="Only entries with a larger id. With sort_by=id, order=asc and skip=0 it "
        "is a keyset cursor (pass the last page's `next_cursor`): fast at any depth.",
    )


class EntryPage(BaseModel):
    items: list[EntryRead]
    total: int | None = Field(description="null when include_total=false")
    skip: int
    limit: int
    has_more: bool
    next_cursor: int | None = Field(description="Pass as after_id for the next page")


class EntryExport(ExportOptions, EntryQuery):
    pass
