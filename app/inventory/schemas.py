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

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, delta: Decimal) -> Decimal:
        if delta == 0:
            raise ValueError("delta must not be zero")
        return delta


class MovementRead(ReadModel):
    id: int
    item_id: int
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
