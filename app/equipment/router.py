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
from app.equipment import service
from app.equipment.schemas import (
    CalibrationCreate,
    CalibrationQuery,
    EquipmentCreate,
    EquipmentQuery,
    EquipmentRead,
    EquipmentUpdate,
)
from app.equipment.service import CALIBRATIONS
from app.models import Equipment

router = Router(prefix="/equipment", tags=["equipment"])


@router.get("", response_model=Page[EquipmentRead], responses=errors(401, 403, 422))
async def list_equipment(
    query: Annotated[EquipmentQuery, Query()], session: SessionDep, _: CanRead
) -> Page[EquipmentRead]:
    """List equipment; filter by status, type, machine, location, text, or calibration due
    before a date."""
    return await service.list_equipment(session, query)


@router.get("/{equipment_id:int}", response_model=EquipmentRead, responses=errors(401, 403, 404))
async def get_equipment(
    equipment_id: int, session: SessionDep, response: Response, _: CanRead
) -> EquipmentRead:
    """One piece of equipment, with its `ETag`."""
    equipment = await crud.get(session, Equipment, equipment_id)
    return with_etag(response, EquipmentRead.model_validate(equipment))


@router.post(
    "",
    response_model=EquipmentRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
)
async def create_equipment(
    body: EquipmentCreate, session: SessionDep, request: Request, response: Response, _: CanWrite
) -> EquipmentRead:
    """Register equipment. `code` is unique. With `last_calibration_date` and
    `calibration_interval_days`, `next_calibration_due` is derived."""
    equipment = await service.create_equipment(session, body)
    read = EquipmentRead.model_validate(equipment)
    return created(request, response, "get_equipment", read, equipment_id=equipment.id)


@router.put(
    "/{equipment_id:int}",
    response_model=EquipmentRead,
    responses=errors(401, 403, 404, 409, 412, 422),
)
async def replace_equipment(
    equipment_id: int,
    body: EquipmentCreate,
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> EquipmentRead:
    """Replace equipment: fields left out go back to their defaults."""
    equipment = await service.replace_equipment(session, equipment_id, body, if_match)
    return with_etag(response, EquipmentRead.model_validate(equipment))


@router.patch(
    "/{equipment_id:int}",
    response_model=EquipmentRead,
    responses=errors(401, 403, 404, 409, 412, 422),
)
async def patch_equipment(
    equipment_id: int,
    body: EquipmentUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> EquipmentRead:
    """Change only the fields sent. A calibration is better recorded with
    `POST /equipment/{id}/calibrations`; a new `last_calibration_date` sent here is recorded
    as a passing one."""
    equipment = await service.patch_equipment(session, equipment_id, body, if_match)
    return with_etag(response, EquipmentRead.model_validate(equipment))


@router.delete(
    "/{equipment_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 412),
)
async def delete_equipment(
    equipment_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete equipment and its calibration records."""
    await crud.delete(session, Equipment, equipment_id, if_match)


# --- calibrations: the equipment's history, reached through it -----------------------------

add_history_routes(
    router,
    CALIBRATIONS,
    HistoryDocs(
        one="calibration",
        many="calibrations",
        owner_param="equipment_id",
        list_doc=(
            "The equipment's calibrations, newest first (by `calibrated_on`, then as recorded)."
        ),
        get_doc=("One calibration of the equipment (404 for another equipment's)."),
        create_doc=(
            "Record a calibration. Its `next_due` is `calibrated_on` + the equipment's "
            "`calibration_interval_days` for `pass` and `adjusted`, `calibrated_on` itself "
            "for `fail` (due at once). The equipment's `last_calibration_date` and "
            "`next_calibration_due` follow its latest calibration. A day in the future is "
            "422."
        ),
        delete_doc=(
            "Delete a calibration recorded by mistake (records are never edited: delete and "
            "record again). The equipment falls back to its latest calibration left, or to no "
            "date."
        ),
    ),
    CalibrationCreate,
    CalibrationQuery,
)
