from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, Resource, UTCDateTime, utcnow
from app.models.types import Money, Quantity, enum_column


class ItemCategory(StrEnum):
    wire = "wire"
    electrode = "electrode"
    gas = "gas"
    flux = "flux"
    ppe = "ppe"
    spare_part = "spare_part"
    other = "other"


class Item(Resource):
    """A consumable or part in stock. Quantity only changes through adjustments or edits."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
    )

    item_id: Mapped[str] = mapped_column(String(50), unique=True)
    item_name: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[ItemCategory] = enum_column(ItemCategory, index=True)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0), index=True)
    reorder_level: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0), index=True)
    reorder_quantity: Mapped[Decimal | None] = mapped_column(Quantity)
    location: Mapped[str | None] = mapped_column(String(100), index=True)
    supplier: Mapped[str | None] = mapped_column(String(200))
    unit_cost: Mapped[Decimal | None] = mapped_column(Money)

    @property
    def low_stock(self) -> bool:
        return self.quantity <= self.reorder_level


class Lot(Resource):
    """A lot, batch or heat of an item, as received with its certificate (EN 10204 3.1).
    `quantity` is what is left of it: it changes only through stock moves naming the lot."""

    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("item_id", "lot_number"),
        CheckConstraint("quantity >= 0", name="lot_quantity_not_negative"),
    )

    item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    lot_number: Mapped[str] = mapped_column(String(100), index=True)
    supplier: Mapped[str | None] = mapped_column(String(200))
    received_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(0))
    notes: Mapped[str | None] = mapped_column(Text)


class StockMovement(Base):
    """One change of an item's stock: append-only history, deleted with the item. A move may
    name the lot it took from (or added to), and the work order and weld it went into: the
    recall queries read these."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_lot_id_work_order_id", "lot_id", "work_order_id"),
        Index("ix_stock_movements_work_order_id_lot_id", "work_order_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    lot_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("lots.id", ondelete="CASCADE"))
    work_order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("work_orders.id"))
    weld_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("welds.id"), index=True)
    delta: Mapped[Decimal] = mapped_column(Quantity)
    quantity_after: Mapped[Decimal] = mapped_column(Quantity)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
