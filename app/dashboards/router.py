from __future__ import annotations

from typing import Annotated

from fastapi import Query

from app.auth.deps import CanRead
from app.core.db import DatabaseDep, SessionDep
from app.core.http import Router
from app.core.openapi import errors
from app.dashboards import service
from app.dashboards.schemas import (
    ConformanceDashboard,
    ConformanceQuery,
    DashboardQuery,
    EquipmentDashboard,
    InspectionDashboard,
    InventoryAlert,
    Production,
    ProductionQuery,
    Stats,
    WorkOrderDashboard,
)

router = Router(prefix="/dashboard", tags=["dashboards"])
ERRORS = errors(401, 403, 422)
Filters = Annotated[DashboardQuery, Query()]


@router.get("/stats", response_model=Stats, responses=ERRORS)
async def stats(q: Filters, session: SessionDep, db: DatabaseDep, _: CanRead) -> Stats:
    """The workshop at a glance: work orders (by status, overdue), equipment (calibration due
    within `days`, machines due for validation), inspections (pass rate), stock alerts,
    qualifications expiring or whose six-month confirmation is overdue. `from`/`to` bound work
    orders (created) and inspections."""
    return await service.stats(session, q, db.dialect)


@router.get("/workorders", response_model=WorkOrderDashboard, responses=ERRORS)
async def work_orders(
    q: Filters, session: SessionDep, db: DatabaseDep, _: CanRead
) -> WorkOrderDashboard:
    """Work orders by status and priority, the overdue list, completions per week, the on-time
    rate and the mean lead time."""
    return await service.work_orders(session, q, db.dialect)


@router.get("/equipment", response_model=EquipmentDashboard, responses=ERRORS)
async def equipment(q: Filters, session: SessionDep, _: CanRead) -> EquipmentDashboard:
    """Equipment by status and type; calibration overdue and due within `days`, from the
    calibration history; welding machines whose validation (IEC 60974-14) is overdue, never
    made, or due within `days`."""
    return await service.equipment(session, q)


@router.get("/inspections", response_model=InspectionDashboard, responses=ERRORS)
async def inspections(
    q: Filters, session: SessionDep, db: DatabaseDep, _: CanRead
) -> InspectionDashboard:
    """Weld quality: pass rate, first-pass yield and repair rate, overall and by welder,
    machine, method and client; ISO 6520-1 defects as a Pareto; the weekly trend."""
    return await service.inspections(session, q, db.dialect)


@router.get("/inventory/alerts", response_model=list[InventoryAlert], responses=errors(401, 403))
async def inventory_alerts(session: SessionDep, _: CanRead) -> list[InventoryAlert]:
    """Items at or below their reorder level, emptiest first, with a suggested order."""
    return await service.inventory_alerts(session)


@router.get("/production", response_model=Production, responses=ERRORS)
async def production(
    q: Annotated[ProductionQuery, Query()], session: SessionDep, db: DatabaseDep, _: CanRead
) -> Production:
    """Imported entries per machine per day/week/month, and the sum/avg/min/max of a numeric
    entry field (e.g. `field=arc_time_s&agg=sum`)."""
    return await service.production(session, q, db.dialect)


@router.get("/conformance", response_model=ConformanceDashboard, responses=ERRORS)
async def conformance(
    q: Annotated[ConformanceQuery, Query()], session: SessionDep, _: CanRead
) -> ConformanceDashboard:
    """Imported weld runs against their WPS, grouped by WPS, welder, machine or work order:
    runs, in range, share in range, not checkable and the parameter failed most often.
    `from`/`to` bound the runs' time."""
    return await service.conformance(session, q)
