from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import CanRead
from app.core.db import SessionDep
from app.core.openapi import errors
from app.entries import service
from app.entries.schemas import EntryPage, EntryQuery, EntryRead

router = APIRouter(prefix="/workshop-entries", tags=["workshop entries"])


@router.get("", response_model=EntryPage, responses=errors(401, 403, 422))
async def list_entries(
    query: Annotated[EntryQuery, Query()], session: SessionDep, _: CanRead
) -> EntryPage:
    """Imported machine data; filter by machine, template, import and time. For deep pages
    follow `next_cursor` with `after_id` (constant time at any depth)."""
    return await service.list_entries(session, query)


@router.get("/{entry_id}", response_model=EntryRead, responses=errors(401, 403, 404))
async def get_entry(entry_id: int, session: SessionDep, _: CanRead) -> EntryRead:
    """One imported row with its mapped, typed data."""
    return EntryRead.model_validate(await service.get_entry(session, entry_id))
