from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.machines.schemas import MachineQuery, MachineRead
from app.models import Machine


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
