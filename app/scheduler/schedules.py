"""Import schedules: the resource behind the scheduler."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.config import Settings
from app.core.errors import field_error, invalid_fields
from app.core.pagination import Page, eq, page_of, paginate, where
from app.core.repository import Repository
from app.models import ImportSchedule
from app.scheduler.runner import next_fire
from app.scheduler.schemas import ScheduleCreate, ScheduleQuery, ScheduleRead
from app.scheduler.sources import SourceError, local_folder


def repo(session: AsyncSession) -> Repository[ImportSchedule]:
    return Repository(session, ImportSchedule)


def _checked(body: ScheduleCreate, settings: Settings) -> ScheduleCreate:
    """Local folders must lie under IMPORT_SOURCE_ROOTS (422 otherwise)."""
    if body.source_uri.startswith("file://"):
        try:
            local_folder(body.source_uri, settings)
        except SourceError as exc:
            raise invalid_fields([field_error("source_uri", str(exc), "value_error")]) from None
    return body


def _with_next_run(values: dict[str, Any]) -> dict[str, Any]:
    values["next_run_at"] = next_fire(values["cron"]) if values.get("enabled") else None
    return values


async def list_schedules(session: AsyncSession, query: ScheduleQuery) -> Page[ScheduleRead]:
    stmt = select(ImportSchedule).where(
        *where(
            eq(ImportSchedule.template_id, query.template_id),
            eq(ImportSchedule.enabled, query.enabled),
        )
    )
    rows, counted = await paginate(
        session,
        stmt,
        query,
        sort=getattr(ImportSchedule, query.sort_by),
        tiebreak=ImportSchedule.id,
    )
    return page_of([ScheduleRead.model_validate(r) for r in rows], counted, query)


async def create_schedule(
    session: AsyncSession, body: ScheduleCreate, settings: Settings
) -> ImportSchedule:
    return await repo(session).add(_with_next_run(_checked(body, settings).model_dump()))


async def replace_schedule(
    session: AsyncSession,
    schedule_id: int,
    body: ScheduleCreate,
    if_match: str | None,
    settings: Settings,
) -> ImportSchedule:
    schedules = repo(session)
    schedule = await schedules.get_for_write(schedule_id, if_match)
    return await schedules.update(schedule, _with_next_run(_checked(body, settings).model_dump()))


async def patch_schedule(
    session: AsyncSession,
    schedule_id: int,
    patch: BaseModel,
    if_match: str | None,
    settings: Settings,
) -> ImportSchedule:
    schedules = repo(session)
    schedule = await schedules.get_for_write(schedule_id, if_match)
    merged = _checked(crud.merge(ScheduleCreate, schedule, patch), settings)
    return await schedules.update(schedule, _with_next_run(merged.model_dump()))


async def delete_schedule(session: AsyncSession, schedule_id: int, if_match: str | None) -> None:
    """Delete a schedule; its imports stay (they forget which schedule made them)."""
    await crud.delete_by_id(repo(session), schedule_id, if_match)
