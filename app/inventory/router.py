from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.auth.deps import CanAdjustStock, CanRead, CanWrite
from app.core import crud
from app.core.db import DatabaseDep, SessionDep
from app.core.export import XLSX, download, stream_select
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.inventory import service
from app.inventory.schemas import (
    ItemCreate,
    ItemExport,
    ItemQuery,
    ItemRead,
    ItemUpdate,
    MovementQuery,
    MovementRead,
    StockAdjust,
)
from app.models import Item

router = Router(prefix="/items", tags=["inventory"])


@router.get("", response_model=Page[ItemRead], responses=errors(401, 403, 422))
async def list_items(
    query: Annotated[ItemQuery, Query()], session: SessionDep, _: CanRead
) -> Page[ItemRead]:
    """List stock items; filter by category, location, supplier, text, or `low_stock=true`."""
    return await service.list_items(session, query)


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
async def export_items(
    query: Annotated[ItemExport, Query()], db: DatabaseDep, _: CanRead
) -> StreamingResponse:
    """The stock list of the list's filters as CSV or XLSX."""
    header, stmt = service.export_items(query)
    return await download(query.format, "items", header, stream_select(db, stmt))


@router.get("/{item_id:int}", response_model=ItemRead, responses=errors(401, 403, 404))
async def get_item(item_id: int, session: SessionDep, response: Response, _: CanRead) -> ItemRead:
    """One item with its stock and its `ETag`."""
    item = await crud.get(session, Item, item_id)
    return with_etag(response, ItemRead.model_validate(item))


@router.post(
    "",
    response_model=ItemRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
)
async def create_item(
    body: ItemCreate,
    session: SessionDep,
    request: Request,
    response: Response,
    principal: CanWrite,
) -> ItemRead:
    """Add a stock item. `item_id` (the SKU) is unique; an initial quantity is recorded as
    a movement."""
    item = await service.create_item(session, body, principal)
    read = ItemRead.model_validate(item)
    return created(request, response, "get_item", read, item_id=item.id)


@router.put(
    "/{item_id:int}", response_model=ItemRead, responses=errors(401, 403, 404, 409, 412, 422)
)
async def replace_item(
    item_id: int,
    body: ItemCreate,
    session: SessionDep,
    response: Response,
    principal: CanWrite,
    if_match: IfMatch = None,
) -> ItemRead:
    """Replace an item; a changed quantity is recorded as a stock-count correction."""
    item = await service.replace_item(session, item_id, body, if_match, principal)
    return with_etag(response, ItemRead.model_validate(item))


@router.patch(
    "/{item_id:int}", response_model=ItemRead, responses=errors(401, 403, 404, 409, 412, 422)
)
async def patch_item(
    item_id: int,
    body: ItemUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    principal: CanWrite,
    if_match: IfMatch = None,
) -> ItemRead:
    """Change only the fields sent; a changed quantity is recorded as a correction."""
    item = await service.patch_item(session, item_id, body, if_match, principal)
    return with_etag(response, ItemRead.model_validate(item))


@router.delete(
    "/{item_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 412),
)
async def delete_item(
    item_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete an item and its movement history."""
    await crud.delete(session, Item, item_id, if_match)


@router.post(
    "/{item_id:int}/adjust", response_model=ItemRead, responses=errors(401, 403, 404, 409, 422)
)
async def adjust_stock(
    item_id: int,
    body: StockAdjust,
    session: SessionDep,
    response: Response,
    principal: CanAdjustStock,
) -> ItemRead:
    """Add (`delta` > 0) or take (`delta` < 0) stock in one atomic step, recorded as a
    movement. 409, with nothing changed, if the stock would go below zero."""
    item = await service.adjust_stock(session, item_id, body, principal)
    return with_etag(response, ItemRead.model_validate(item))


@router.get(
    "/{item_id:int}/movements",
    response_model=Page[MovementRead],
    responses=errors(401, 403, 404, 422),
)
async def list_movements(
    item_id: int, query: Annotated[MovementQuery, Query()], session: SessionDep, _: CanRead
) -> Page[MovementRead]:
    """An item's stock history, newest first by default."""
    return await service.list_movements(session, item_id, query)
