from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.pagination import ListQuery
from app.core.schemas import ResourceRead, UTCDateTime
from app.models import ImportSource, ImportStatus


class RowError(BaseModel):
    row: int = Field(description="Excel row number")
    column: str
    field: str
    message: str
    kind: Literal["invalid", "unresolved"] = Field(
        default="invalid",
        description="invalid: the row was not imported; unresolved: a weld run imported "
        "(on_error=skip) with a part that could not be tied: badge, WPS, weld or pass",
    )


class Conformance(BaseModel):
    """What the checks found in an import's weld runs (ADR 0028)."""

    model_config = ConfigDict(serialize_by_alias=True)

    runs: int = Field(description="Runs judged (tacks not counted)")
    pass_: int = Field(alias="pass")
    fail: int
    not_checkable: int
    tacks: int
    unresolved: int = Field(description="Runs with a part that could not be tied")
    checked_at: dt.datetime | None = Field(
        default=None, description="When the runs were last re-checked"
    )


class ImportRead(ResourceRead):
    template_id: int
    source: ImportSource
    original_filename: str = Field(description="As uploaded; for display only")
    file_format: str
    sha256: str
    size_bytes: int
    status: ImportStatus
    on_error: str
    rows_total: int
    rows_imported: int
    rows_failed: int
    errors: list[RowError] = Field(description="Row errors, at most IMPORT_MAX_ERRORS")
    conformance: Conformance | None = Field(
        description="Of an import with a run template: its runs' verdicts"
    )
    message: str | None = Field(description="Why a failed import failed")
    attempts: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    file_available: bool
    created_by: str | None


class DryRunReport(BaseModel):
    rows_total: int
    rows_valid: int
    rows_failed: int
    errors: list[RowError]
    sha256: str
    file_format: str


class ImportOptions(BaseModel):
    model_config = {"extra": "forbid"}

    on_error: Literal["abort", "skip"] = Field(
        default="abort",
        description="abort: import nothing if any row is bad; skip: import the good rows",
    )
    force: bool = Field(default=False, description="Import a file already imported")
    dry_run: bool = Field(default=False, description="Validate and report; write nothing")


class ImportQuery(ListQuery):
    sort_by: Literal["id", "created_at", "status", "template_id"] = "id"
    order: Literal["asc", "desc"] = "desc"
    template_id: int | None = None
    status: ImportStatus | None = None
    source: ImportSource | None = None
    created_from: UTCDateTime | None = None
    created_to: UTCDateTime | None = None


def import_read(record: Any, progress: Any = None) -> ImportRead:
    read = ImportRead.model_validate(
        {
            **{k: getattr(record, k) for k in ImportRead.model_fields if hasattr(record, k)},
            "file_available": record.storage_key is not None and record.file_deleted_at is None,
        }
    )
    if progress is not None and record.status == ImportStatus.running:
        read.rows_total = progress.rows_total
        read.rows_imported = progress.rows_imported
        read.rows_failed = progress.rows_failed
    return read
