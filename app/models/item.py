from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
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


class StockMovement(Base):
    """One change of an item's stock: append-only history, deleted with the item."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    delta: Mapped[Decimal] = mapped_column(Quantity)
    quantity_after: Mapped[Decimal] = mapped_column(Quantity)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
