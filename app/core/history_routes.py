"""The routes of a dated check history under its owner (app/core/history.py): an equipment's
calibrations, a machine's validations. The two are the same four routes with other names, so
they are made here once, from the `History` and the words that name them.

No `from __future__ import annotations` here: the routes' parameter types are this function's
arguments, which FastAPI must see as objects, not as names to look up in the module.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response, status

from app.auth.deps import CanRead, CanWrite
from app.core import history
from app.core.db import SessionDep
from app.core.history import History
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import ListQuery, Page
from app.core.schemas import InputModel


@dataclass(frozen=True, slots=True)
class HistoryDocs:
    """How the routes of one history read: `calibration`, `calibrations`, the owner's path
    parameter, and each route's description."""

    one: str  # calibration
    many: str  # calibrations
    owner_param: str  # equipment_id
    list_doc: str
    get_doc: str
    create_doc: str
    delete_doc: str


def add_history_routes(
    router: Router,
    h: History,
    docs: HistoryDocs,
    create_model: type[InputModel],
    query_model: type[ListQuery],
) -> None:
    """List, get, record and delete `h`'s records under `router`'s owner path."""
    read_model: Any = h.read
    many = f"/{{{docs.owner_param}:int}}/{docs.many}"
    one = f"{many}/{{{docs.one}_id:int}}"
    OwnerId = Annotated[int, Path(alias=docs.owner_param)]
    RecordId = Annotated[int, Path(alias=f"{docs.one}_id")]

    @router.get(
        many,
        name=f"list_{docs.many}",
        description=docs.list_doc,
        response_model=Page[read_model],
        responses=errors(401, 403, 404, 422),
    )
    async def list_records(
        owner_id: OwnerId,
        query: Annotated[query_model, Query()],  # type: ignore[valid-type]
        session: SessionDep,
        _: CanRead,
    ) -> Any:
        return await history.list_records(session, h, owner_id, query)

    @router.get(
        one,
        name=f"get_{docs.one}",
        description=docs.get_doc,
        response_model=read_model,
        responses=errors(401, 403, 404),
    )
    async def get_record(
        owner_id: OwnerId, record_id: RecordId, session: SessionDep, response: Response, _: CanRead
    ) -> Any:
        record = await history.get_record(session, h, owner_id, record_id)
        return with_etag(response, h.read.model_validate(record))

    @router.post(
        many,
        name=f"create_{docs.one}",
        description=docs.create_doc,
        response_model=read_model,
        status_code=status.HTTP_201_CREATED,
        responses=errors(401, 403, 404, 422),
    )
    async def create_record(
        owner_id: OwnerId,
        body: create_model,  # type: ignore[valid-type]
        session: SessionDep,
        request: Request,
        response: Response,
        _: CanWrite,
    ) -> Any:
        record = await history.add_record(session, h, owner_id, body)
        read = h.read.model_validate(record)
        ids = {docs.owner_param: owner_id, f"{docs.one}_id": record.id}
        return created(request, response, f"get_{docs.one}", read, **ids)

    @router.delete(
        one,
        name=f"delete_{docs.one}",
        description=docs.delete_doc,
        status_code=status.HTTP_204_NO_CONTENT,
        responses=errors(401, 403, 404, 412),
    )
    async def delete_record(
        owner_id: OwnerId,
        record_id: RecordId,
        session: SessionDep,
        _: CanWrite,
        if_match: IfMatch = None,
    ) -> None:
        await history.delete_record(session, h, owner_id, record_id, if_match)
