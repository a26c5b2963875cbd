from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from app.auth.deps import CanRead, CanWrite
from app.core.db import SessionDep
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.wps import service
from app.wps.schemas import WpsCreate, WpsQuery, WpsRead, WpsUpdate

router = Router(prefix="/wps", tags=["wps"])
WRITE_ERRORS = errors(401, 403, 404, 409, 412, 422)


@router.get("", response_model=Page[WpsRead], responses=errors(401, 403, 422))
async def list_wps(
    query: Annotated[WpsQuery, Query()], session: SessionDep, _: CanRead
) -> Page[WpsRead]:
    """Welding procedure specifications, every revision; filter by number, process, status,
    joint or a material group they cover."""
    return await service.list_wps(session, query)


@router.get("/{wps_id:int}", response_model=WpsRead, responses=errors(401, 403, 404))
async def get_wps(wps_id: int, session: SessionDep, response: Response, _: CanRead) -> WpsRead:
    """One WPS revision with its passes, in order."""
    return with_etag(response, WpsRead.model_validate(await service.get_wps(session, wps_id)))


@router.post(
    "",
    response_model=WpsRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
)
async def create_wps(
    body: WpsCreate, session: SessionDep, request: Request, response: Response, _: CanWrite
) -> WpsRead:
    """A new WPS, as draft revision 0, with its passes. 409 when the number exists (make a
    new revision of it instead)."""
    wps = await service.create_wps(session, body)
    return created(request, response, "get_wps", WpsRead.model_validate(wps), wps_id=wps.id)


@router.put("/{wps_id:int}", response_model=WpsRead, responses=WRITE_ERRORS)
async def replace_wps(
    wps_id: int,
    body: WpsCreate,
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> WpsRead:
    """Replace a draft, passes included. An approved WPS is not edited in place (409): revise
    it."""
    wps = await service.replace_wps(session, wps_id, body, if_match)
    return with_etag(response, WpsRead.model_validate(wps))


@router.patch("/{wps_id:int}", response_model=WpsRead, responses=WRITE_ERRORS)
async def patch_wps(
    wps_id: int,
    body: WpsUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> WpsRead:
    """Change the fields sent of a draft; `passes`, when sent, replaces the whole list."""
    wps = await service.patch_wps(session, wps_id, body, if_match)
    return with_etag(response, WpsRead.model_validate(wps))


@router.delete(
    "/{wps_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412),
)
async def delete_wps(
    wps_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete a draft nothing refers to; 409 for an approved or superseded revision (the
    record of work done under it) or one still referred to."""
    await service.delete_wps(session, wps_id, if_match)


@router.post(
    "/{wps_id:int}/approve", response_model=WpsRead, responses=errors(401, 403, 404, 409, 412)
)
async def approve_wps(
    wps_id: int,
    session: SessionDep,
    response: Response,
    principal: CanWrite,
    if_match: IfMatch = None,
) -> WpsRead:
    """Approve a draft: it goes on new work from now on, the revision approved before it is
    superseded, and work orders naming its number in `wps_number` are linked to it."""
    wps = await service.approve_wps(session, wps_id, principal, if_match)
    return with_etag(response, WpsRead.model_validate(wps))


@router.post(
    "/{wps_id:int}/revise",
    response_model=WpsRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 404, 409),
)
async def revise_wps(
    wps_id: int, session: SessionDep, request: Request, response: Response, _: CanWrite
) -> WpsRead:
    """A new draft revision copied from this one; approving it supersedes this one."""
    wps = await service.revise_wps(session, wps_id)
    return created(request, response, "get_wps", WpsRead.model_validate(wps), wps_id=wps.id)
