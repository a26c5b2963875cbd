from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response, status

from app.auth.deps import CanManageImports, CanRead, CanWrite
from app.core import crud
from app.core.db import DatabaseDep, SessionDep
from app.core.http import IfMatch, SettingsDep, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.imports.deps import ImporterDep
from app.models import ImportSchedule
from app.scheduler import runner, schedules, service
from app.scheduler.schemas import (
    JobRead,
    RunReport,
    ScheduleCreate,
    ScheduleQuery,
    ScheduleRead,
    ScheduleUpdate,
)

router = APIRouter(tags=["scheduled imports"])
WRITE_ERRORS = errors(401, 403, 404, 409, 412, 422)


def _resync(request: Request, tasks: BackgroundTasks) -> None:
    """Edits take effect at once in this process (others pick them up within
    SCHEDULER_SYNC_SECONDS). A background task runs after the response, so after the request's
    session has committed: the sync reads the edit, and the router needs no commit of its own."""
    scheduler = request.app.state.scheduler
    if scheduler is not None:
        tasks.add_task(scheduler.sync)


RESYNC = [Depends(_resync)]


@router.get("/import-schedules", response_model=Page[ScheduleRead], responses=errors(401, 403, 422))
async def list_schedules(
    query: Annotated[ScheduleQuery, Query()], session: SessionDep, _: CanRead
) -> Page[ScheduleRead]:
    """Folders and S3 prefixes watched for machine exports."""
    return await schedules.list_schedules(session, query)


@router.get(
    "/import-schedules/{schedule_id:int}",
    response_model=ScheduleRead,
    responses=errors(401, 403, 404),
)
async def get_schedule(
    schedule_id: int, session: SessionDep, response: Response, _: CanRead
) -> ScheduleRead:
    """One schedule with its last run and next run."""
    schedule = await crud.get(session, ImportSchedule, schedule_id)
    return with_etag(response, ScheduleRead.model_validate(schedule))


@router.post(
    "/import-schedules",
    response_model=ScheduleRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
    dependencies=RESYNC,
)
async def create_schedule(
    body: ScheduleCreate,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    _: CanWrite,
) -> ScheduleRead:
    """Watch a folder (under IMPORT_SOURCE_ROOTS) or an S3 prefix on a cron."""
    schedule = await schedules.create_schedule(session, body, settings)
    read = ScheduleRead.model_validate(schedule)
    return created(request, response, "get_schedule", read, schedule_id=schedule.id)


@router.put(
    "/import-schedules/{schedule_id:int}",
    response_model=ScheduleRead,
    responses=WRITE_ERRORS,
    dependencies=RESYNC,
)
async def replace_schedule(
    schedule_id: int,
    body: ScheduleCreate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> ScheduleRead:
    """Replace a schedule; the scheduler follows without a restart."""
    schedule = await schedules.replace_schedule(session, schedule_id, body, if_match, settings)
    return with_etag(response, ScheduleRead.model_validate(schedule))


@router.patch(
    "/import-schedules/{schedule_id:int}",
    response_model=ScheduleRead,
    responses=WRITE_ERRORS,
    dependencies=RESYNC,
)
async def patch_schedule(
    schedule_id: int,
    body: ScheduleUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> ScheduleRead:
    """Change the fields sent (e.g. `enabled`, `cron`); the scheduler follows at once."""
    schedule = await schedules.patch_schedule(session, schedule_id, body, if_match, settings)
    return with_etag(response, ScheduleRead.model_validate(schedule))


@router.delete(
    "/import-schedules/{schedule_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 412),
    dependencies=RESYNC,
)
async def delete_schedule(
    schedule_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Stop watching; the imports it made stay."""
    await crud.delete(session, ImportSchedule, schedule_id, if_match)


@router.post(
    "/import-schedules/{schedule_id:int}/run",
    response_model=RunReport,
    responses=errors(401, 403, 404),
)
async def run_schedule(
    schedule_id: int,
    db: DatabaseDep,
    importer: ImporterDep,
    settings: SettingsDep,
    _: CanManageImports,
) -> RunReport:
    """Run a schedule now and report what happened to each file."""
    return await runner.run_schedule(db, importer, settings, schedule_id)


@router.get("/scheduler/jobs", response_model=list[JobRead], responses=errors(401, 403))
async def list_jobs(request: Request, db: DatabaseDep, _: CanRead) -> list[JobRead]:
    """Every job: one per schedule (next and last run, last outcome, from the database, so any
    replica answers), and this process's housekeeping jobs when it runs the scheduler."""
    return await service.list_jobs(db, request.app.state.scheduler)
