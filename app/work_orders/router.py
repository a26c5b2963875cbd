from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.auth.deps import CanProgressWorkOrders, CanRead, CanWrite
from app.core import crud
from app.core.db import DatabaseDep, SessionDep
from app.core.export import XLSX, download, stream_select
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.models import WorkOrder
from app.work_orders import service
from app.work_orders.schemas import (
    WorkOrderCreate,
    WorkOrderExport,
    WorkOrderQuery,
    WorkOrderRead,
    WorkOrderUpdate,
)

router = Router(prefix="/workorders", tags=["work orders"])
WRITE_ERRORS = errors(401, 403, 404, 409, 412, 422)


@router.get("", response_model=Page[WorkOrderRead], responses=errors(401, 403, 422))
async def list_work_orders(
    query: Annotated[WorkOrderQuery, Query()], session: SessionDep, _: CanRead
) -> Response:
    """List work orders; filter by status, priority, client, welder, machine, due dates,
    or `overdue=true`."""
    return await service.list_work_orders(session, query)


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
async def export_work_orders(
    query: Annotated[WorkOrderExport, Query()], db: DatabaseDep, _: CanRead
) -> StreamingResponse:
    """The work orders of the list's filters as CSV or XLSX (up to 1,000,000 rows)."""
    header, stmt = service.export_work_orders(query)
    return await download(query.format, "work-orders", header, stream_select(db, stmt))


@router.get("/{work_order_id:int}", response_model=WorkOrderRead, responses=errors(401, 403, 404))
async def get_work_order(
    work_order_id: int, session: SessionDep, response: Response, _: CanRead
) -> WorkOrderRead:
    """One work order with the assigned welder's name and its `ETag`."""
    work_order = await service.get_work_order(session, work_order_id)
    return with_etag(response, WorkOrderRead.model_validate(work_order))


@router.post(
    "",
    response_model=WorkOrderRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
)
async def create_work_order(
    body: WorkOrderCreate, session: SessionDep, request: Request, response: Response, _: CanWrite
) -> WorkOrderRead:
    """Plan a work order. `order_id` is unique."""
    work_order = await service.create_work_order(session, body)
    read = WorkOrderRead.model_validate(work_order)
    return created(request, response, "get_work_order", read, work_order_id=work_order.id)


@router.put("/{work_order_id:int}", response_model=WorkOrderRead, responses=WRITE_ERRORS)
async def replace_work_order(
    work_order_id: int,
    body: WorkOrderCreate,
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> WorkOrderRead:
    """Replace a work order (managers)."""
    work_order = await service.replace_work_order(session, work_order_id, body, if_match)
    return with_etag(response, WorkOrderRead.model_validate(work_order))


@router.patch("/{work_order_id:int}", response_model=WorkOrderRead, responses=WRITE_ERRORS)
async def patch_work_order(
    work_order_id: int,
    body: WorkOrderUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    principal: CanProgressWorkOrders,
    if_match: IfMatch = None,
) -> WorkOrderRead:
    """Change the fields sent. Operators may change the progress fields only (`status`,
    `started_at`, `completed_at`, `notes`); managers anything. Send `If-Match` so two people
    never overwrite each other (412)."""
    work_order = await service.patch_work_order(session, work_order_id, body, if_match, principal)
    return with_etag(response, WorkOrderRead.model_validate(work_order))


@router.delete(
    "/{work_order_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412),
)
async def delete_work_order(
    work_order_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete a work order; 409 while inspections refer to it."""
    await crud.delete(session, WorkOrder, work_order_id, if_match)
