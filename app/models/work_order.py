from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigId, Resource, UTCDateTime
from app.models.employee import Employee
from app.models.types import enum_column


class WorkOrderStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    on_hold = "on_hold"
    completed = "completed"
    cancelled = "cancelled"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class WorkOrder(Resource):
    __tablename__ = "work_orders"
    __label__ = "Work order"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        Index("ix_work_orders_status_due_date", "status", "due_date"),
        # Covers the completion figures of the work-order dashboard (no table reads).
        Index(
            "ix_work_orders_status_completed_at", "status", "completed_at", "due_date", "created_at"
        ),
    )

    order_id: Mapped[str] = mapped_column(String(50), unique=True)
    client: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    assigned_welder_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("employees.id"), index=True
    )
    machine_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("machines.id"), index=True)
    wps_number: Mapped[str | None] = mapped_column(String(50))
    wps_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("wps.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[WorkOrderStatus] = enum_column(WorkOrderStatus, default=WorkOrderStatus.open)
    priority: Mapped[Priority] = enum_column(Priority, default=Priority.normal, index=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str | None] = mapped_column(Text)

    assigned_welder: Mapped[Employee | None] = relationship(lazy="raise")

    @property
    def assigned_welder_name(self) -> str | None:
        welder = self.assigned_welder
        return welder.full_name if welder is not None else None


class WorkOrderDayTotal(Base):
    """Per workshop day the orders were created on (WORKSHOP_TIMEZONE, ADR 0036) and key of
    one dimension, the work-order dashboards' figures: `status` and `priority` (key: the value)
    count orders; `open_due` (key: the due date) counts open orders with a due date, for the
    overdue count; `completed` (key: the Monday of the completion's week) counts completed
    orders, those with a due date (`with_due`), those done on or before it (`on_time`) and the
    sum of their lead times (`lead_time`, in the database's own unit: app.work_orders.totals).
    Kept by adding each write's difference in the same transaction, so the dashboards read
    these rows instead of every order (ADR 0041)."""

    __tablename__ = "work_order_day_totals"
    __table_args__ = (UniqueConstraint("dimension", "day", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(10))
    day: Mapped[date] = mapped_column(Date)
    key: Mapped[str] = mapped_column(String(20))
    orders: Mapped[int] = mapped_column(BigInteger)
    with_due: Mapped[int] = mapped_column(BigInteger)
    on_time: Mapped[int] = mapped_column(BigInteger)
    lead_time: Mapped[int] = mapped_column(BigInteger)
