from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.core.repository import Repository
from app.machines.schemas import MachineCreate, MachineQuery, MachineRead
from app.models import Machine


def repo(session: AsyncSession) -> Repository[Machine]:
    return Repository(session, Machine)


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


async def create_machine(session: AsyncSession, body: MachineCreate) -> Machine:
    return await crud.create(repo(session), body)


async def replace_machine(
    session: AsyncSession, machine_id: int, body: MachineCreate, if_match: str | None
) -> Machine:
    return await crud.replace_by_id(repo(session), machine_id, body, if_match)


async def patch_machine(
    session: AsyncSession, machine_id: int, patch: BaseModel, if_match: str | None
) -> Machine:
    return await crud.patch_by_id(repo(session), MachineCreate, machine_id, patch, if_match)


async def delete_machine(session: AsyncSession, machine_id: int, if_match: str | None) -> None:
    """Delete a machine nothing refers to (templates, entries, work orders, equipment...)."""
    await crud.delete_by_id(repo(session), machine_id, if_match)
