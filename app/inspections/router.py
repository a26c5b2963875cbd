from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.auth.deps import CanRead, CanWrite, CanWriteInspections
from app.core import crud
from app.core.db import DatabaseDep, SessionDep
from app.core.export import XLSX, download, stream_select
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.inspections import service
from app.inspections.schemas import (
    InspectionCreate,
    InspectionExport,
    InspectionQuery,
    InspectionRead,
    InspectionUpdate,
)
from app.models import Inspection

router = Router(prefix="/inspections", tags=["inspections"])


@router.get("", response_model=Page[InspectionRead], responses=errors(401, 403, 422))
async def list_inspections(
    query: Annotated[InspectionQuery, Query()], session: SessionDep, _: CanRead
) -> Page[InspectionRead]:
    """List weld inspections; filter by work order, machine, welder, inspector, method,
    result, quality level, weld, or inspection time."""
    return await service.list_inspections(session, query)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        **errors(401, 403, 422),
        200: {
            "content": {"text/csv": {}, XLSX: {}},
            "description": "The file (CSV or XLSX), streamed",
        },
    },
)
async def export_inspections(
    query: Annotated[InspectionExport, Query()], db: DatabaseDep, _: CanRead
) -> StreamingResponse:
    """The inspections of the list's filters as CSV or XLSX (defects as JSON text)."""
    header, stmt = service.export_inspections(query)
    return await download(query.format, "inspections", header, stream_select(db, stmt))


@router.get("/{inspection_id:int}", response_model=InspectionRead, responses=errors(401, 403, 404))
async def get_inspection(
    inspection_id: int, session: SessionDep, response: Response, _: CanRead
) -> InspectionRead:
    """One inspection with its defects, and its `ETag`."""
    inspection = await crud.get(session, Inspection, inspection_id)
    return with_etag(response, InspectionRead.model_validate(inspection))


@router.post(
    "",
    response_model=InspectionRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 422),
)
async def create_inspection(
    body: InspectionCreate,
    session: SessionDep,
    request: Request,
    response: Response,
    _: CanWriteInspections,
) -> InspectionRead:
    """Log an inspection (operators and inspectors) with its ISO 6520-1 defects."""
    inspection = await service.create_inspection(session, body)
    read = InspectionRead.model_validate(inspection)
    return created(request, response, "get_inspection", read, inspection_id=inspection.id)


@router.put(
    "/{inspection_id:int}",
    response_model=InspectionRead,
    responses=errors(401, 403, 404, 409, 412, 422),
)
async def replace_inspection(
    inspection_id: int,
    body: InspectionCreate,
    session: SessionDep,
    response: Response,
    _: CanWriteInspections,
    if_match: IfMatch = None,
) -> InspectionRead:
    """Replace an inspection."""
    inspection = await service.replace_inspection(session, inspection_id, body, if_match)
    return with_etag(response, InspectionRead.model_validate(inspection))


@router.patch(
    "/{inspection_id:int}",
    response_model=InspectionRead,
    responses=errors(401, 403, 404, 409, 412, 422),
)
async def patch_inspection(
    inspection_id: int,
    body: InspectionUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanWriteInspections,
    if_match: IfMatch = None,
) -> InspectionRead:
    """Change only the fields sent."""
    inspection = await service.patch_inspection(session, inspection_id, body, if_match)
    return with_etag(response, InspectionRead.model_validate(inspection))


@router.delete(
    "/{inspection_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 412),
)
async def delete_inspection(
    inspection_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete an inspection (managers)."""
    await service.delete_inspection(session, inspection_id, if_match)
