from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.auth.deps import CanProgressWorkOrders, CanRead, CanWrite
from app.core import crud
from app.core.db import SessionDep
from app.core.http import IfMatch, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.models import Weld
from app.qualifications import service as qualifications
from app.qualifications.schemas import EligibleWelder
from app.welds import service
from app.welds.schemas import WeldCreate, WeldQuery, WeldRead, WeldUpdate

router = APIRouter(tags=["welds"])
WRITE_ERRORS = errors(401, 403, 404, 409, 412, 422)


@router.get(
    "/workorders/{work_order_id:int}/welds",
    response_model=Page[WeldRead],
    responses=errors(401, 403, 404, 422),
)
async def list_welds(
    work_order_id: int, query: Annotated[WeldQuery, Query()], session: SessionDep, _: CanRead
) -> Page[WeldRead]:
    """The welds (joints) of a work order; filter by status, welder, WPS or override."""
    return await service.list_welds(session, work_order_id, query)


@router.post(
    "/workorders/{work_order_id:int}/welds",
    response_model=WeldRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 404, 409, 422),
)
async def create_weld(
    work_order_id: int,
    body: WeldCreate,
    session: SessionDep,
    request: Request,
    response: Response,
    principal: CanWrite,
) -> WeldRead:
    """Add a weld to a work order. Its WPS must be approved; its welder must be qualified for
    it today (422 `WELDER_NOT_QUALIFIED` with the engine's reasons) unless a manager sends
    `override_reason`."""
    weld = await service.create_weld(session, work_order_id, body, principal)
    return created(request, response, "get_weld", service.read(weld), weld_id=weld.id)


@router.get("/welds/{weld_id:int}", response_model=WeldRead, responses=errors(401, 403, 404))
async def get_weld(weld_id: int, session: SessionDep, response: Response, _: CanRead) -> WeldRead:
    """One weld, with the override that assigned its welder, if any."""
    return with_etag(response, service.read(await crud.get(session, Weld, weld_id)))


@router.put("/welds/{weld_id:int}", response_model=WeldRead, responses=WRITE_ERRORS)
async def replace_weld(
    weld_id: int,
    body: WeldCreate,
    session: SessionDep,
    response: Response,
    principal: CanWrite,
    if_match: IfMatch = None,
) -> WeldRead:
    """Replace a weld; the welder goes through the qualification gate again when they or the
    weld's variables change."""
    weld = await service.replace_weld(session, weld_id, body, if_match, principal)
    return with_etag(response, service.read(weld))


@router.patch("/welds/{weld_id:int}", response_model=WeldRead, responses=WRITE_ERRORS)
async def patch_weld(
    weld_id: int,
    body: WeldUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    principal: CanProgressWorkOrders,
    if_match: IfMatch = None,
) -> WeldRead:
    """Change the fields sent. Operators may change only `status`; managers anything, and only
    they may send `override_reason`."""
    weld = await service.patch_weld(session, weld_id, body, if_match, principal)
    return with_etag(response, service.read(weld))


@router.delete(
    "/welds/{weld_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412),
)
async def delete_weld(
    weld_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete a weld; inspections that pointed at it keep their `weld_reference`."""
    await crud.delete(session, Weld, weld_id, if_match)


@router.get(
    "/welds/{weld_id:int}/eligible-welders",
    response_model=list[EligibleWelder],
    responses=errors(401, 403, 404, 422),
)
async def eligible_welders(
    weld_id: int,
    session: SessionDep,
    _: CanRead,
    on: Annotated[dt.date | None, Query(description="Default: today (the workshop's)")] = None,
) -> list[EligibleWelder]:
    """Who may weld it on the day, best covered first, each with the engine's reasons."""
    weld = await crud.get(session, Weld, weld_id)
    return await qualifications.eligible(session, weld, on or service.today())
