from __future__ import annotations

import datetime as dt
from typing import Literal

from apscheduler.triggers.cron import CronTrigger
from pydantic import Field, field_validator

from app.core.pagination import ListQuery
from app.core.schemas import InputModel, ReadModel, ResourceRead, partial


def cron_trigger(expression: str) -> CronTrigger:
    """Crontab (5 fields), or 6 fields with seconds first (for short test intervals)."""
    fields = expression.split()
    if len(fields) == 6:
        second, minute, hour, day, month, day_of_week = fields
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone="UTC",
        )
    return CronTrigger.from_crontab(expression, timezone="UTC")


class ScheduleCreate(InputModel):
    name: str = Field(min_length=1, max_length=200, examples=["Cell 1 exports"])
    template_id: int
    source_uri: str = Field(
        min_length=1,
        max_length=500,
        description="file:///absolute/folder (under IMPORT_SOURCE_ROOTS) or s3://bucket/prefix "
        "(inside IMPORT_SOURCE_BUCKETS)",
        examples=["file:///srv/inbox/cell1", "s3://workshop-drops/cell1/"],
    )
    pattern: str = Field(default="*.xlsx", min_length=1, max_length=200, description="Glob")
    cron: str = Field(max_length=100, description="Crontab, UTC", examples=["*/5 * * * *"])
    enabled: bool = True
    max_attempts: int = Field(default=3, ge=1, le=10)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            cron_trigger(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a crontab expression: {exc}") from None
        return " ".join(value.split())

    @field_validator("pattern")
    @classmethod
    def _plain_glob(cls, value: str) -> str:
        if "/" in value or "\\" in value or value.startswith(".."):
            raise ValueError("a file-name pattern, without folders")
        return value

    @field_validator("source_uri")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("file:///", "s3://")):
            raise ValueError("use file:///absolute/folder or s3://bucket/prefix")
        return value


ScheduleUpdate = partial(ScheduleCreate, "ScheduleUpdate")


class ScheduleRead(ResourceRead):
    name: str
    template_id: int
    source_uri: str
    pattern: str
    cron: str
    enabled: bool
    max_attempts: int
    last_run_at: dt.datetime | None
    last_status: str | None
    last_message: str | None
    next_run_at: dt.datetime | None


class ScheduleQuery(ListQuery):
    sort_by: Literal["id", "name", "next_run_at", "last_run_at"] = "id"
    template_id: int | None = None
    enabled: bool | None = None


class FileOutcome(ReadModel):
    name: str
    outcome: Literal[
        "imported",
        "skipped_known",
        "skipped_unsettled",
        "skipped_given_up",
        "claimed_elsewhere",
        "failed",
    ]
    import_id: int | None = None
    message: str | None = None


class RunReport(ReadModel):
    schedule_id: int
    started_at: dt.datetime
    finished_at: dt.datetime
    status: Literal["ok", "partial", "failed"]
    files: list[FileOutcome]


class JobRead(ReadModel):
    id: str
    name: str
    kind: Literal["schedule", "housekeeping"]
    enabled: bool
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    last_status: str | None
