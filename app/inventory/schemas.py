from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from app.core.pagination import ExportOptions, ListQuery
from app.core.schemas import Decimal3, InputModel, ReadModel, ResourceRead, partial
from app.models import ItemCategory


class ItemCreate(InputModel):
    item_id: str = Field(min_length=1, max_length=50, description="SKU", examples=["WIRE-SG2-1.0"])
    item_name: str = Field(min_length=1, max_length=200)
    category: ItemCategory
    unit: str = Field(default="pcs", min_length=1, max_length=20, examples=["kg", "l", "pcs"])
    quantity: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=3)
    reorder_level: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=3)
    reorder_quantity: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=3)
    location: str | None = Field(default=None, max_length=100)
    supplier: str | None = Field(default=None, max_length=200)
    unit_cost: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)


ItemUpdate = partial(ItemCreate, "ItemUpdate")


class ItemRead(ResourceRead):
    item_id: str
    item_name: str
    category: ItemCategory
    unit: str
    quantity: Decimal3
    reorder_level: Decimal3
    reorder_quantity: Decimal3 | None
    location: str | None
    supplier: str | None
    unit_cost: Decimal3 | None
    low_stock: bool


class ItemQuery(ListQuery):
    sort_by: Literal[
        "id", "item_id", "item_name", "category", "quantity", "reorder_level", "created_at"
    ] = "id"
    category: ItemCategory | None = None
    location: str | None = None
    supplier: str | None = Field(default=None, description="Contains (any case)")
    q: str | None = Field(default=None, description="Contains, in SKU or name")
    low_stock: bool | None = Field(default=None, description="At or below the reorder level")


class StockAdjust(InputModel):
    delta: Decimal = Field(
        max_digits=14, decimal_places=3, description="Added (positive) or taken (negative)"
    )
    reason: str = Field(min_length=1, max_length=200, examples=["consumed on WO-2026-0001"])
    lot_id: int | None = Field(
        default=None, description="The item's lot taken from (or added to): its stock too"
    )
    work_order_id: int | None = Field(default=None, description="The work order it went into")
    weld_id: int | None = Field(
        default=None, description="The weld it went into (sets work_order_id to the weld's)"
    )

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, delta: Decimal) -> Decimal:
        if delta == 0:
            raise ValueError("delta must not be zero")
        return delta


class MovementRead(ReadModel):
    id: int
    item_id: int
    lot_id: int | None
    work_order_id: int | None
    weld_id: int | None
    delta: Decimal3
    quantity_after: Decimal3
    reason: str
    created_by: str | None
    created_at: dt.datetime


class MovementQuery(ListQuery):
    sort_by: Literal["id", "created_at"] = "id"
    order: Literal["asc", "desc"] = "desc"
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None


class ItemExport(ExportOptions, ItemQuery):
    pass


class LotFields(InputModel):
    """What a lot's record holds and may correct; its quantity moves only by stock moves."""

    lot_number: str = Field(
        min_length=1, max_length=100, description="Lot, batch or heat number", examples=["H-23117"]
    )
    supplier: str | None = Field(default=None, max_length=200)
    received_on: dt.date | None = None
    expires_on: dt.date | None = None
    notes: str | None = Field(default=None, max_length=2000)


class LotCreate(LotFields):
    quantity: Decimal = Field(
        default=Decimal(0),
        ge=0,
        max_digits=14,
        decimal_places=3,
        description="Received: added to the item's stock as a move of this lot",
    )


LotUpdate = partial(LotFields, "LotUpdate")


class LotRead(ResourceRead):
    item_id: int
    lot_number: str
    supplier: str | None
    received_on: dt.date | None
    expires_on: dt.date | None
    quantity: Decimal3 = Field(description="What is left of the lot")
    notes: str | None


class LotQuery(ListQuery):
    sort_by: Literal["id", "lot_number", "received_on", "expires_on"] = "id"
    q: str | None = Field(default=None, description="Contains, in the lot number")
    expires_before: dt.date | None = None


class LotUse(ReadModel):
    """Where a lot went: taken (positive) per work order or weld."""

    work_order_id: int | None
    order_id: str | None
    weld_id: int | None
    weld_reference: str | None
    quantity: Decimal3


class LotUsage(ReadModel):
    lot: LotRead
    work_orders: list[LotUse] = Field(description="Per work order, the weld left empty")
    welds: list[LotUse] = Field(description="Per weld")


class WorkOrderLot(ReadModel):
    """A lot that went into a work order, with how much of it."""

    lot_id: int
    lot_number: str
    item_id: int
    item_name: str
    quantity: Decimal3
    welds: list[str] = Field(description="References of the welds it went into")
