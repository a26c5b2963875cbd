from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from app.auth.deps import CanRead, CanWrite
from app.core import crud
from app.core.db import SessionDep
from app.core.history_routes import HistoryDocs, add_history_routes
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.machines import service
from app.machines.schemas import (
    MachineCreate,
    MachineQuery,
    MachineRead,
    MachineUpdate,
    ValidationCreate,
    ValidationQuery,
)
from app.machines.service import VALIDATIONS
from app.models import Machine

router = Router(prefix="/machines", tags=["machines"])


@router.get("", response_model=Page[MachineRead], responses=errors(401, 403, 422))
async def list_machines(
    query: Annotated[MachineQuery, Query()], session: SessionDep, _: CanRead
) -> Page[MachineRead]:
    """List welding machines and cells; filter by type, status, location or text."""
    return await service.list_machines(session, query)


@router.get("/{machine_id:int}", response_model=MachineRead, responses=errors(401, 403, 404))
async def get_machine(
    machine_id: int, session: SessionDep, response: Response, _: CanRead
) -> MachineRead:
    """One machine, with its `ETag`."""
    machine = await crud.get(session, Machine, machine_id)
    return with_etag(response, MachineRead.model_validate(machine))


@router.post(
    "",
    response_model=MachineRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
)
async def create_machine(
    body: MachineCreate, session: SessionDep, request: Request, response: Response, _: CanWrite
) -> MachineRead:
    """Register a machine. `code` is unique (409 if taken)."""
    machine = await crud.create(session, Machine, body)
    read = MachineRead.model_validate(machine)
    return created(request, response, "get_machine", read, machine_id=machine.id)


@router.put(
    "/{machine_id:int}", response_model=MachineRead, responses=errors(401, 403, 404, 409, 412, 422)
)
async def replace_machine(
    machine_id: int,
    body: MachineCreate,
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> MachineRead:
    """Replace a machine: fields left out go back to their defaults."""
    machine = await service.replace_machine(session, machine_id, body, if_match)
    return with_etag(response, MachineRead.model_validate(machine))


@router.patch(
    "/{machine_id:int}", response_model=MachineRead, responses=errors(401, 403, 404, 409, 412, 422)
)
async def patch_machine(
    machine_id: int,
    body: MachineUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> MachineRead:
    """Change only the fields sent; `null` clears an optional field."""
    machine = await service.patch_machine(session, machine_id, body, if_match)
    return with_etag(response, MachineRead.model_validate(machine))


@router.delete(
    "/{machine_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412),
)
async def delete_machine(
    machine_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete a machine and its validation records; 409 naming what still refers to it."""
    await crud.delete(session, Machine, machine_id, if_match)


# --- validations (IEC 60974-14): the machine's history, reached through it -----------------

add_history_routes(
    router,
    VALIDATIONS,
    HistoryDocs(
        one="validation",
        many="validations",
        owner_param="machine_id",
        list_doc=("The machine's validations, newest first (by `validated_on`, then as recorded)."),
        get_doc=("One validation of the machine (404 for another machine's)."),
        create_doc=(
            "Record a validation of the machine's meters (IEC 60974-14). Its `next_due` is "
            "`validated_on` + the machine's `validation_interval_days` for `pass` and "
            "`adjusted`, `validated_on` itself for `fail` (due at once). The machine's "
            "`last_validated_on` and `validation_due` follow its latest validation. A day in "
            "the future is 422."
        ),
        delete_doc=(
            "Delete a validation recorded by mistake (records are never edited: delete and "
            "record again). The machine falls back to its latest validation left, or to none."
        ),
    ),
    ValidationCreate,
    ValidationQuery,
)
