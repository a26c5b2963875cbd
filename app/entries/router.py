from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response
from fastapi.responses import StreamingResponse

from app.auth.deps import CanRead
from app.core.db import DatabaseDep, SessionDep
from app.core.export import XLSX, download, stream_select
from app.core.http import Router
from app.core.openapi import errors
from app.entries import service
from app.entries.schemas import EntryExport, EntryPage, EntryQuery, EntryRead

router = Router(prefix="/workshop-entries", tags=["workshop entries"])


@router.get("", response_model=EntryPage, responses=errors(401, 403, 422))
async def list_entries(
    query: Annotated[EntryQuery, Query()], session: SessionDep, _: CanRead
) -> Response:
    """Imported machine data; filter by machine, template, import and time. For deep pages
    follow `next_cursor` with `after_id` (constant time at any depth)."""
    return await service.list_entries(session, query)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        **errors(401, 403, 404, 422),
        200: {
            "content": {"text/csv": {}, XLSX: {}},
            "description": "The file (CSV or XLSX), streamed",
        },
    },
)
async def export_entries(
    query: Annotated[EntryExport, Query()], session: SessionDep, db: DatabaseDep, _: CanRead
) -> StreamingResponse:
    """Imported entries of the list's filters as CSV or XLSX. With `template_id`, each data
    field is a column of its own; otherwise `data` is one JSON column. Weld runs (a run
    template, or a filter on verdict, welder, WPS or weld) add their columns and `reasons`:
    `verdict=fail` exports the failing runs with why."""
    header, stmt, fields, runs = await service.export_entries(session, query)
    rows = service.flatten(stream_select(db, stmt), fields, runs)
    return await download(query.format, "workshop-entries", header, rows)


@router.get("/{entry_id:int}", response_model=EntryRead, responses=errors(401, 403, 404))
async def get_entry(entry_id: int, session: SessionDep, _: CanRead) -> EntryRead:
    """One imported row with its mapped, typed data."""
    return EntryRead.model_validate(await service.get_entry(session, entry_id))
