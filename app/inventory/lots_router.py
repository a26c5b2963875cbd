"""Lots of an item, and the recall queries: where a lot went, what went into a work order."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from app.auth.deps import CanRead, CanWrite
from app.core import crud
from app.core.db import SessionDep
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.inventory import lots
from app.inventory.schemas import LotCreate, LotQuery, LotRead, LotUpdate, LotUsage, WorkOrderLot
from app.models import Lot

router = Router(tags=["lots"])


@router.get(
    "/items/{item_id:int}/lots", response_model=Page[LotRead], responses=errors(401, 403, 404, 422)
)
async def list_lots(
    item_id: int, query: Annotated[LotQuery, Query()], session: SessionDep, _: CanRead
) -> Page[LotRead]:
    """An item's lots (lot, batch or heat numbers) with what is left of each."""
    return await lots.list_lots(session, item_id, query)


@router.post(
    "/items/{item_id:int}/lots",
    response_model=LotRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 404, 409, 422),
)
async def create_lot(
    item_id: int,
    body: LotCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CanWrite,
) -> LotRead:
    """Receive a lot: its `quantity` is added to the item's stock as a move of the lot. 409 for
    a lot number the item has already. Attach its certificate (EN 10204 3.1) to the lot."""
    lot = await lots.create_lot(session, item_id, body, principal)
    return created(request, response, "get_lot", LotRead.model_validate(lot), lot_id=lot.id)


@router.get("/lots/{lot_id:int}", response_model=LotRead, responses=errors(401, 403, 404))
async def get_lot(lot_id: int, session: SessionDep, response: Response, _: CanRead) -> LotRead:
    """One lot with what is left of it and its `ETag`."""
    return with_etag(response, LotRead.model_validate(await crud.get(session, Lot, lot_id)))


@router.patch(
    "/lots/{lot_id:int}", response_model=LotRead, responses=errors(401, 403, 404, 409, 412, 422)
)
async def patch_lot(
    lot_id: int,
    body: LotUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> LotRead:
    """Correct a lot's record; its quantity moves only with stock moves naming it."""
    lot = await lots.patch_lot(session, lot_id, body, if_match)
    return with_etag(response, LotRead.model_validate(lot))


@router.delete(
    "/lots/{lot_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412),
)
async def delete_lot(
    lot_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete a lot entered by mistake; 409 once stock moves name it (it is part of the
    record)."""
    await lots.delete_lot(session, lot_id, if_match)


@router.get("/lots/{lot_id:int}/usage", response_model=LotUsage, responses=errors(401, 403, 404))
async def lot_usage(lot_id: int, session: SessionDep, _: CanRead) -> LotUsage:
    """Recall: the work orders and welds that used the lot, and how much of it each took."""
    return await lots.usage(session, lot_id)


@router.get(
    "/workorders/{work_order_id:int}/lots",
    response_model=list[WorkOrderLot],
    responses=errors(401, 403, 404),
)
async def work_order_lots(
    work_order_id: int, session: SessionDep, _: CanRead
) -> list[WorkOrderLot]:
    """Recall: the lots that went into the work order, how much of each, into which welds."""
    return await lots.work_order_lots(session, work_order_id)
