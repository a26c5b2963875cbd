"""Welds of a work order, and the gate on who may weld them.

Rules:
- a weld's `reference` is unique within its work order; its WPS must be approved when it is
  set or changed (new work); its process defaults to the WPS's;
- assigning a welder (or changing what an assigned welder must weld) asks the engine: a welder
  it does not find qualified on the day is refused (422 with its reasons), unless a manager
  sends `override_reason`; the override is kept with who and when, and shown on the weld;
  an assignment the engine accepts clears an earlier override;
- without `resources:write` (operators), only the weld's `status` may change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.roles import Permission
from app.core import clock, crud
from app.core.errors import Conflict, Forbidden, field_error, invalid_fields, problem
from app.core.pagination import Page, eq, page_of, paginate, where
from app.models import Inspection, Weld, WorkOrder, Wps
from app.models.base import utcnow
from app.qualifications import service as qualifications
from app.welds.schemas import Override, WeldCreate, WeldQuery, WeldRead
from app.wps.service import approved_for_work

PROGRESS_FIELDS = frozenset({"status"})
GATED = (
    "welder_id",
    "wps_id",
    "process",
    "joint",
    "thickness",
    "diameter",
    "position",
    "material_group",
)


def read(weld: Weld) -> WeldRead:
    override = None
    if weld.override_at is not None:
        override = Override(
            by=weld.override_by or "", at=weld.override_at, reason=weld.override_reason or ""
        )
    values = {name: getattr(weld, name) for name in WeldRead.model_fields if name != "override"}
    return WeldRead.model_validate({**values, "override": override})


async def list_welds(session: AsyncSession, work_order_id: int, query: WeldQuery) -> Page[WeldRead]:
    await crud.get(session, WorkOrder, work_order_id)
    overridden = None
    if query.overridden is not None:
        overridden = (
            Weld.override_at.is_not(None) if query.overridden else Weld.override_at.is_(None)
        )
    stmt = select(Weld).where(
        Weld.work_order_id == work_order_id,
        *where(
            eq(Weld.status, query.status),
            eq(Weld.welder_id, query.welder_id),
            eq(Weld.wps_id, query.wps_id),
            overridden,
        ),
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Weld, query.sort_by), tiebreak=Weld.id
    )
    return page_of([read(r) for r in rows], counted, query)


def today() -> date:
    return clock.today()


async def _gate(
    session: AsyncSession, weld: Weld, principal: Principal, override_reason: str | None
) -> None:
    if weld.welder_id is None:
        weld.override_by = weld.override_at = weld.override_reason = None
        return
    answer = await qualifications.qualified(
        session, weld.welder_id, await qualifications.weld_variables(session, weld), today()
    )
    if answer.qualified:
        weld.override_by = weld.override_at = weld.override_reason = None
        return
    if override_reason is None:
        raise problem(
            422,
            "WELDER_NOT_QUALIFIED",
            f"Employee {weld.welder_id} is not qualified for weld {weld.reference}: "
            + "; ".join(c.reason for c in answer.checks if not c.covered)
            + "".join(f"; {lapse.reason}" for lapse in answer.validity)
            + " (a manager may assign with override_reason)",
            extra={"qualification": answer.model_dump(mode="json")},
        )
    if not principal.can(Permission.resource_write):
        raise Forbidden(
            f"Role '{principal.role}' may not override the qualification gate",
            extra={"required_permission": Permission.resource_write.value},
        )
    weld.override_by, weld.override_at, weld.override_reason = (
        principal.label,
        utcnow(),
        override_reason,
    )


async def _write(
    session: AsyncSession,
    weld: Weld,
    body: WeldCreate,
    principal: Principal,
    previous: dict[str, Any] | None,
) -> Weld:
    values = body.model_dump(exclude={"override_reason"})
    if previous is None or values["wps_id"] != previous["wps_id"]:
        wps = await approved_for_work(session, values["wps_id"])
        if wps is not None and values["process"] is None:
            values["process"] = wps.process
    await crud.check_references(session, Weld, values)
    if values["wps_id"] is not None and (previous is None or _changed(values, previous)):
        wps = await session.get(Wps, values["wps_id"])
        if wps is not None and (errors := outside_scope(wps, values)):
            raise invalid_fields(errors)
    if previous is not None and values["reference"] != previous["reference"]:
        inspected = await session.scalar(
            select(Inspection.id).where(Inspection.weld_id == weld.id).limit(1)
        )
        if inspected is not None:  # inspections carry the reference the weld had
            raise Conflict(
                f"Weld {weld.id} has inspections under reference {previous['reference']}; "
                "its reference stays",
                extra={"fields": ["reference"]},
            )
    if previous is None or values["reference"] != previous["reference"]:
        taken = await session.scalar(
            select(Weld.id).where(
                Weld.work_order_id == weld.work_order_id, Weld.reference == values["reference"]
            )
        )
        if taken is not None:
            raise Conflict(
                f"Work order {weld.work_order_id} has a weld {values['reference']} already",
                extra={"fields": ["reference"], "weld_id": taken},
            )
    for key, value in values.items():
        setattr(weld, key, value)
    if previous is None:
        session.add(weld)
    changed = previous is None or _changed(values, previous)
    if changed or body.override_reason is not None:
        await _gate(session, weld, principal, body.override_reason)
    await crud.flush(session, Weld)
    return weld


def _changed(values: dict[str, Any], previous: dict[str, Any]) -> bool:
    return any(values[k] != previous[k] for k in GATED)


def outside_scope(wps: Wps, weld: dict[str, Any]) -> list[dict[str, Any]]:
    """A weld under a WPS lies within the WPS's scope (422 naming each field outside it)."""
    errors = []
    name = f"WPS {wps.number} rev {wps.revision}"

    def outside(field_name: str, text: str) -> None:
        errors.append(field_error(field_name, f"{text}: outside {name}", "outside_wps"))

    if weld["process"] is not None and weld["process"] != wps.process:
        outside("process", f"process {weld['process']}, not {wps.process}")
    if weld["joint"] != wps.joint:
        outside("joint", f"joint {weld['joint']}, not {wps.joint.value}")
    low, high = wps.thickness_min, wps.thickness_max
    if (low is not None and weld["thickness"] < low) or (
        high is not None and weld["thickness"] > high
    ):
        outside("thickness", f"thickness {weld['thickness']:g} mm")
    diameter, dlow, dhigh = weld["diameter"], wps.diameter_min, wps.diameter_max
    if diameter is None and dlow is not None:
        outside("diameter", "a plate weld under a pipe WPS")
    elif diameter is not None and (
        (dlow is not None and diameter < dlow) or (dhigh is not None and diameter > dhigh)
    ):
        outside("diameter", f"diameter {diameter:g} mm")
    positions = [p for p in wps.positions.split(",") if p]
    if positions and weld["position"] not in positions:
        outside("position", f"position {weld['position']}")
    groups = [g for g in wps.material_groups.split(",") if g]
    if groups and weld["material_group"] is not None and weld["material_group"] not in groups:
        outside("material_group", f"material group {weld['material_group']}")
    return errors


async def create_weld(
    session: AsyncSession, work_order_id: int, body: WeldCreate, principal: Principal
) -> Weld:
    """A weld of an existing work order (404 otherwise), through the gate."""
    await crud.get(session, WorkOrder, work_order_id)
    return await _write(session, Weld(work_order_id=work_order_id), body, principal, None)


def _current(weld: Weld) -> dict[str, Any]:
    return {
        name: getattr(weld, name) for name in WeldCreate.model_fields if name != "override_reason"
    }


async def replace_weld(
    session: AsyncSession,
    weld_id: int,
    body: WeldCreate,
    if_match: str | None,
    principal: Principal,
) -> Weld:
    """Replace, through the gate when the welder or the weld's variables change."""
    weld = await crud.get_for_write(session, Weld, weld_id, if_match)
    return await _write(session, weld, body, principal, _current(weld))


async def patch_weld(
    session: AsyncSession,
    weld_id: int,
    patch: BaseModel,
    if_match: str | None,
    principal: Principal,
) -> Weld:
    """Change the fields sent. Without `resources:write`, only `status`."""
    if not principal.can(Permission.resource_write):
        planning = sorted(patch.model_fields_set - PROGRESS_FIELDS)
        if planning:
            raise Forbidden(
                f"Role '{principal.role}' may change only a weld's status, "
                f"not {', '.join(planning)}",
                extra={"required_permission": Permission.resource_write.value},
            )
    weld = await crud.get_for_write(session, Weld, weld_id, if_match)
    previous = _current(weld)
    merged = crud.merge(WeldCreate, weld, patch)
    if "override_reason" not in patch.model_fields_set:
        merged = merged.model_copy(update={"override_reason": None})
    if "wps_id" in patch.model_fields_set and "process" not in patch.model_fields_set:
        # A new WPS brings its process, as it does on create and PUT; the old one would stay.
        merged = merged.model_copy(update={"process": None})
    return await _write(session, weld, merged, principal, previous)
