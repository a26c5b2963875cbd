"""Stock: items, and every change of their quantity as a movement.

`adjust` is one conditional UPDATE (`quantity = quantity + delta WHERE quantity + delta >= 0`),
never read-modify-write, so concurrent consumers cannot drive stock below zero or lose a
change. A full edit of `quantity` (PUT/PATCH) records the difference as a movement too, so the
history always adds up to the stock.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import audit, crud
from app.core.errors import Conflict, NotFound, field_error, invalid_fields
from app.core.pagination import (
    Page,
    between,
    contains_any,
    eq,
    export_statement,
    page_of,
    paginate,
    where,
)
from app.inventory.schemas import (
    ItemCreate,
    ItemExport,
    ItemQuery,
    ItemRead,
    MovementQuery,
    MovementRead,
    StockAdjust,
)
from app.models import Item, Lot, StockMovement, Weld, WorkOrder
from app.models.base import utcnow


def _filters(query: ItemQuery) -> list[Any]:
    low = None
    if query.low_stock is not None:
        low = Item.quantity <= Item.reorder_level
        low = low if query.low_stock else ~low
    return where(
        eq(Item.category, query.category),
        eq(Item.location, query.location),
        contains_any(query.supplier, Item.supplier),
        contains_any(query.q, Item.item_id, Item.item_name),
        low,
    )


async def list_items(session: AsyncSession, query: ItemQuery) -> Page[ItemRead]:
    stmt = select(Item).where(*_filters(query))
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Item, query.sort_by), tiebreak=Item.id
    )
    return page_of([ItemRead.model_validate(r) for r in rows], counted, query)


EXPORT_COLUMNS = (
    "id",
    "item_id",
    "item_name",
    "category",
    "unit",
    "quantity",
    "reorder_level",
    "reorder_quantity",
    "location",
    "supplier",
    "unit_cost",
    "updated_at",
)


def export_items(query: ItemExport) -> tuple[list[str], Select[Any]]:
    stmt = export_statement(Item, EXPORT_COLUMNS, _filters(query), query)
    return list(EXPORT_COLUMNS), stmt


def _movement(item: Item, delta: Decimal, reason: str, by: Principal | None) -> StockMovement:
    return StockMovement(
        item_id=item.id,
        delta=delta,
        quantity_after=item.quantity,
        reason=reason,
        created_by=by.label if by else None,
    )


async def create_item(session: AsyncSession, body: ItemCreate, by: Principal) -> Item:
    """Create; an initial quantity is recorded as a movement."""
    item = await crud.create(session, Item, body)
    if item.quantity:
        session.add(_movement(item, item.quantity, "initial stock", by))
        await session.flush()
    return item


async def _write(session: AsyncSession, item: Item, body: ItemCreate, by: Principal) -> Item:
    before = item.quantity
    await crud.update(session, item, body)
    if item.quantity != before:
        session.add(_movement(item, item.quantity - before, "stock count correction", by))
        await session.flush()
    return item


async def replace_item(
    session: AsyncSession, item_id: int, body: ItemCreate, if_match: str | None, by: Principal
) -> Item:
    """Replace; a changed quantity is recorded as a stock-count correction."""
    item = await crud.get_for_write(session, Item, item_id, if_match)
    return await _write(session, item, body, by)


async def patch_item(
    session: AsyncSession, item_id: int, patch: BaseModel, if_match: str | None, by: Principal
) -> Item:
    """Patch; a changed quantity is recorded as a stock-count correction."""
    item = await crud.get_for_write(session, Item, item_id, if_match)
    return await _write(session, item, crud.merge(ItemCreate, item, patch), by)


async def adjust_stock(
    session: AsyncSession, item_id: int, body: StockAdjust, by: Principal
) -> Item:
    """Add or take stock atomically; 409 (nothing changed) if it would go below zero."""
    return await move(session, item_id, body, by)


async def move(
    session: AsyncSession, item_id: int, body: StockAdjust, by: Principal | None
) -> Item:
    """One stock move: the item's quantity, the named lot's too, and the movement that records
    it with its lot, work order and weld. Each quantity is one conditional UPDATE (never below
    zero); the lot goes first, so a refusal of either changes nothing."""
    refs = await _move_references(session, item_id, body)
    if body.lot_id is not None:
        await _take_from_lot(session, body.lot_id, body.delta)
    result = await session.execute(
        update(Item)
        .where(Item.id == item_id, Item.quantity + body.delta >= 0)
        .values(quantity=Item.quantity + body.delta, version=Item.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    # populate_existing: the UPDATE above bypassed the identity map.
    item = await session.get(Item, item_id, populate_existing=True)
    if item is None:
        raise NotFound(f"Item {item_id} does not exist")
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(
            f"Item {item_id} has {item.quantity} {item.unit}; taking {-body.delta} would go "
            "below zero",
            extra={"quantity": float(item.quantity)},
        )
    audit.record(
        session,
        "update",
        "items",
        item_id,
        {"quantity": (item.quantity - body.delta, item.quantity)},
    )
    movement = _movement(item, body.delta, body.reason, by)
    movement.lot_id, movement.work_order_id, movement.weld_id = refs
    session.add(movement)
    await session.flush()
    return item


async def _move_references(
    session: AsyncSession, item_id: int, body: StockAdjust
) -> tuple[int | None, int | None, int | None]:
    """The move's lot (one of this item's), work order and weld (the weld's order by default);
    422 naming the field for one that does not exist or does not fit."""
    errors = []
    if body.lot_id is not None:
        lot_item = await session.scalar(select(Lot.item_id).where(Lot.id == body.lot_id))
        if lot_item is None:
            errors.append(field_error("lot_id", f"lot {body.lot_id} does not exist", "reference"))
        elif lot_item != item_id:
            message = f"lot {body.lot_id} is a lot of item {lot_item}, not of item {item_id}"
            errors.append(field_error("lot_id", message, "mismatch"))
    work_order_id = body.work_order_id
    if body.weld_id is not None:
        weld_order = await session.scalar(select(Weld.work_order_id).where(Weld.id == body.weld_id))
        if weld_order is None:
            errors.append(
                field_error("weld_id", f"weld {body.weld_id} does not exist", "reference")
            )
        elif work_order_id is not None and work_order_id != weld_order:
            message = f"weld {body.weld_id} is of work order {weld_order}, not {work_order_id}"
            errors.append(field_error("work_order_id", message, "mismatch"))
        else:
            work_order_id = weld_order
    if work_order_id is not None and not await session.scalar(
        select(WorkOrder.id).where(WorkOrder.id == work_order_id)
    ):
        message = f"work order {work_order_id} does not exist"
        errors.append(field_error("work_order_id", message, "reference"))
    if errors:
        raise invalid_fields(errors)
    return body.lot_id, work_order_id, body.weld_id


async def _take_from_lot(session: AsyncSession, lot_id: int, delta: Decimal) -> None:
    result = await session.execute(
        update(Lot)
        .where(Lot.id == lot_id, Lot.quantity + delta >= 0)
        .values(quantity=Lot.quantity + delta, version=Lot.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    lot = await session.get(Lot, lot_id, populate_existing=True)
    assert lot is not None  # checked by _move_references
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(
            f"Lot {lot.lot_number} has {lot.quantity} left; taking {-delta} would go below zero",
            extra={"quantity": float(lot.quantity)},
        )
    audit.record(
        session, "update", "lots", lot_id, {"quantity": (lot.quantity - delta, lot.quantity)}
    )


async def list_movements(
    session: AsyncSession, item_id: int, query: MovementQuery
) -> Page[MovementRead]:
    await crud.get(session, Item, item_id)
    stmt = select(StockMovement).where(
        StockMovement.item_id == item_id,
        *where(between(StockMovement.created_at, query.created_from, query.created_to)),
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(StockMovement, query.sort_by), tiebreak=StockMovement.id
    )
    return page_of([MovementRead.model_validate(r) for r in rows], counted, query)
