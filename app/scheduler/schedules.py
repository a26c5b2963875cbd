"""Import schedules: the resource behind the scheduler."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.config import Settings
from app.core.errors import field_error, invalid_fields
from app.core.pagination import Page, eq, page_of, paginate, where
from app.models import ImportSchedule
from app.scheduler.runner import next_fire
from app.scheduler.schemas import ScheduleCreate, ScheduleQuery, ScheduleRead
from app.scheduler.sources import SourceError, check_source


def _checked(body: ScheduleCreate, settings: Settings) -> ScheduleCreate:
    """Folders must lie under IMPORT_SOURCE_ROOTS, S3 prefixes inside IMPORT_SOURCE_BUCKETS
    (422 otherwise)."""
    try:
        check_source(body.source_uri, settings)
    except SourceError as exc:
        raise invalid_fields([field_error("source_uri", str(exc), "value_error")]) from None
    return body


def _next_run(body: ScheduleCreate) -> datetime | None:
    return next_fire(body.cron) if body.enabled else None


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
    """Create with the source checked (`_checked`) and the next run computed."""
    checked = _checked(body, settings)
    return await crud.create(session, ImportSchedule, checked, next_run_at=_next_run(checked))


async def replace_schedule(
    session: AsyncSession,
    schedule_id: int,
    body: ScheduleCreate,
    if_match: str | None,
    settings: Settings,
) -> ImportSchedule:
    """Replace with the source checked (`_checked`) and the next run computed."""
    schedule = await crud.get_for_write(session, ImportSchedule, schedule_id, if_match)
    checked = _checked(body, settings)
    return await crud.update(session, schedule, checked, next_run_at=_next_run(checked))


async def patch_schedule(
    session: AsyncSession,
    schedule_id: int,
    patch: BaseModel,
    if_match: str | None,
    settings: Settings,
) -> ImportSchedule:
    """Patch with the merged source checked (`_checked`) and the next run computed."""
    schedule = await crud.get_for_write(session, ImportSchedule, schedule_id, if_match)
    merged = _checked(crud.merge(ScheduleCreate, schedule, patch), settings)
    return await crud.update(session, schedule, merged, next_run_at=_next_run(merged))
