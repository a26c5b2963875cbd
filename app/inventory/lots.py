"""Lots of an item (lot, batch or heat number, with its certificate), and the recall queries.

A lot's `quantity` is what is left of it. It moves only with the item's stock, by a stock move
that names the lot (`app.inventory.service.move`): receiving a lot adds its quantity to the item
as such a move, so the item's history still adds up to its stock, and a lot never goes below
zero (the same conditional UPDATE as the item's). A lot with moves is part of the record and is
not deleted (409); deleting the item takes its lots and moves with it.

Recall: which work orders and welds used lot X (`usage`); which lots went into work order Y
(`work_order_lots`). Both sum the moves that took from a lot, in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import crud
from app.core.errors import Conflict
from app.core.pagination import Page, contains_any, page_of, paginate, where
from app.inventory.schemas import (
    LotCreate,
    LotFields,
    LotQuery,
    LotRead,
    LotUsage,
    LotUse,
    StockAdjust,
    WorkOrderLot,
)
from app.inventory.service import move
from app.models import Item, Lot, StockMovement, Weld, WorkOrder

M = StockMovement


async def list_lots(session: AsyncSession, item_id: int, query: LotQuery) -> Page[LotRead]:
    await crud.get(session, Item, item_id)
    stmt = select(Lot).where(
        Lot.item_id == item_id,
        *where(
            contains_any(query.q, Lot.lot_number),
            [Lot.expires_on < query.expires_before] if query.expires_before else None,
        ),
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Lot, query.sort_by), tiebreak=Lot.id
    )
    return page_of([LotRead.model_validate(r) for r in rows], counted, query)


async def create_lot(session: AsyncSession, item_id: int, body: LotCreate, by: Principal) -> Lot:
    """A received lot; its quantity is added to the item's stock as a move of the lot."""
    await crud.get(session, Item, item_id)
    received = body.quantity
    lot = Lot(**body.model_dump(exclude={"quantity"}), item_id=item_id, quantity=Decimal(0))
    session.add(lot)
    await crud.flush(session, Lot)
    if received:
        reason = f"received lot {lot.lot_number}"
        await move(session, item_id, StockAdjust(delta=received, reason=reason, lot_id=lot.id), by)
        await session.refresh(lot)
    return lot


async def patch_lot(
    session: AsyncSession, lot_id: int, body: BaseModel, if_match: str | None
) -> Lot:
    """Correct a lot's record (not its quantity: stock moves do that)."""
    return await crud.patch(session, Lot, LotFields, lot_id, body, if_match)


async def delete_lot(session: AsyncSession, lot_id: int, if_match: str | None) -> None:
    lot = await crud.get_for_write(session, Lot, lot_id, if_match)
    moves = await session.scalar(select(func.count()).where(M.lot_id == lot_id))
    if moves:
        raise Conflict(
            f"Lot {lot.lot_number} has {moves} stock moves: it is part of the record",
            extra={"dependents": {"stock_movements.lot_id": int(moves)}},
        )
    await crud.remove(session, lot)


def _taken() -> Any:
    """The quantity taken by moves (stock moves out are negative)."""
    return func.sum(-M.delta)


def consumed(condition: ColumnElement[bool], *by: Any) -> Select[Any]:
    """The lots taken by the moves that meet `condition`: (`by`…, lot id, lot number, item id,
    item name, quantity taken), per lot and per each of `by`."""
    lot = (M.lot_id, Lot.lot_number, Lot.item_id, Item.item_name)
    return (
        select(*by, *lot, _taken())
        .join(Lot, Lot.id == M.lot_id)
        .join(Item, Item.id == Lot.item_id)
        .where(condition, M.delta < 0)
        .group_by(*by, *lot)
        .order_by(*by, M.lot_id)
    )


async def usage(session: AsyncSession, lot_id: int) -> LotUsage:
    """Which work orders and welds used the lot, and how much of it."""
    lot = await crud.get(session, Lot, lot_id)
    out = M.delta < 0
    orders = await session.execute(
        select(M.work_order_id, WorkOrder.order_id, _taken())
        .join(WorkOrder, WorkOrder.id == M.work_order_id)
        .where(M.lot_id == lot_id, out)
        .group_by(M.work_order_id, WorkOrder.order_id)
        .order_by(M.work_order_id)
    )
    welds = await session.execute(
        select(Weld.work_order_id, WorkOrder.order_id, M.weld_id, Weld.reference, _taken())
        .join(Weld, Weld.id == M.weld_id)
        .join(WorkOrder, WorkOrder.id == Weld.work_order_id)
        .where(M.lot_id == lot_id, out)
        .group_by(Weld.work_order_id, WorkOrder.order_id, M.weld_id, Weld.reference)
        .order_by(M.weld_id)
    )
    return LotUsage(
        lot=LotRead.model_validate(lot),
        work_orders=[
            LotUse(work_order_id=w, order_id=o, weld_id=None, weld_reference=None, quantity=q)
            for w, o, q in orders.all()
        ],
        welds=[
            LotUse(work_order_id=w, order_id=o, weld_id=i, weld_reference=r, quantity=q)
            for w, o, i, r, q in welds.all()
        ],
    )


async def work_order_lots(session: AsyncSession, work_order_id: int) -> list[WorkOrderLot]:
    """The lots that went into a work order, with how much of each and into which welds."""
    await crud.get(session, WorkOrder, work_order_id)
    rows = await session.execute(consumed(M.work_order_id == work_order_id))
    welds: dict[int | None, set[str]] = defaultdict(set)
    for lot_id, reference in await session.execute(
        select(M.lot_id, Weld.reference)
        .join(Weld, Weld.id == M.weld_id)
        .where(M.work_order_id == work_order_id, M.delta < 0, M.lot_id.is_not(None))
        .distinct()
    ):
        welds[lot_id].add(reference)
    return [
        WorkOrderLot(
            lot_id=lot_id,
            lot_number=number,
            item_id=item_id,
            item_name=name,
            quantity=quantity,
            welds=sorted(welds[lot_id]),
        )
        for lot_id, number, item_id, name, quantity in rows.all()
    ]
