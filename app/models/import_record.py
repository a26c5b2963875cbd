from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, Resource, UTCDateTime
from app.models.types import Json, OptionalJson, enum_column


class ImportStatus(StrEnum):
    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"


class ImportSource(StrEnum):
    upload = "upload"
    schedule = "schedule"
    cli = "cli"


class ImportRecord(Resource):
    """One file import. `dedupe_key` (the sha256 while the import stands; NULL once it failed
    or was forced) is unique per template: inserting the record is the claim that makes the
    same file import once, across processes."""

    __tablename__ = "imports"
    __label__ = "Import"
    __table_args__ = (
        UniqueConstraint("template_id", "dedupe_key"),
        Index("ix_imports_template_id_sha256", "template_id", "sha256"),
    )

    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("templates.id"), index=True)
    source: Mapped[ImportSource] = enum_column(ImportSource, index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str | None] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ImportStatus] = enum_column(ImportStatus, index=True)
    on_error: Mapped[str] = mapped_column(String(10))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    # Of a run template's import: runs, pass, fail, not_checkable, tacks, unresolved, checked_at.
    conformance: Mapped[dict[str, Any] | None] = mapped_column(OptionalJson)
    message: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    file_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))
    schedule_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("import_schedules.id", ondelete="SET NULL"), index=True
    )
    source_path: Mapped[str | None] = mapped_column(String(1000))


class ImportProgress(Base):
    """A running import's progress where every worker and replica reads it (ADR 0038): written
    by the importing process in short transactions of its own, at most every
    IMPORT_PROGRESS_SECONDS, beside the import's own transaction that holds the entries until
    the end. Not on the import record: inserting entries locks their record's row (MariaDB takes
    a shared lock for the foreign key until the commit), so another transaction could not
    update it. The record has the final figures; this row is read only while it runs."""

    __tablename__ = "import_progress"

    import_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True
    )
    rows_total: Mapped[int] = mapped_column(Integer)
    rows_imported: Mapped[int] = mapped_column(Integer)
    rows_failed: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
