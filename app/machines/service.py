from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud, history
from app.core.history import History
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.machines.schemas import MachineCreate, MachineQuery, MachineRead, ValidationRead
from app.models import Machine, MachineValidation

VALIDATIONS = History(
    record=MachineValidation,
    owner=Machine,
    owner_key="machine_id",
    day="validated_on",
    interval="validation_interval_days",
    last="last_validated_on",
    due="validation_due",
    read=ValidationRead,
)


async def list_machines(session: AsyncSession, query: MachineQuery) -> Page[MachineRead]:
    stmt = select(Machine).where(
        *where(
            eq(Machine.type, query.type),
            eq(Machine.status, query.status),
            eq(Machine.location, query.location),
            contains_any(query.q, Machine.code, Machine.name),
        )
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Machine, query.sort_by), tiebreak=Machine.id
    )
    return page_of([MachineRead.model_validate(r) for r in rows], counted, query)


async def replace_machine(
    session: AsyncSession, machine_id: int, body: MachineCreate, if_match: str | None
) -> Machine:
    """Replace; a new `validation_interval_days` moves `validation_due` with it."""
    machine = await crud.get_for_write(session, Machine, machine_id, if_match)
    return await _write(session, machine, body)


async def patch_machine(
    session: AsyncSession, machine_id: int, patch: BaseModel, if_match: str | None
) -> Machine:
    """Patch; a new `validation_interval_days` moves `validation_due` with it."""
    machine = await crud.get_for_write(session, Machine, machine_id, if_match)
    return await _write(session, machine, crud.merge(MachineCreate, machine, patch))


async def _write(session: AsyncSession, machine: Machine, body: MachineCreate) -> Machine:
    values = await history.derived(session, VALIDATIONS, machine.id, body.validation_interval_days)
    return await crud.update(session, machine, body, **(values or {}))
