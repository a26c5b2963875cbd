from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from app.auth.deps import CanRead, CanWrite
from app.core.db import SessionDep
from app.core.http import IfMatch, Router, with_etag
from app.core.openapi import errors
from app.employees.schemas import ConfirmRequest, QualificationRead
from app.employees.service import qualification_read
from app.qualifications import service
from app.qualifications.schemas import Due
from app.welds.service import today

router = Router(prefix="/qualifications", tags=["qualifications"])


@router.post(
    "/{qualification_id:int}/confirm",
    response_model=QualificationRead,
    responses=errors(401, 403, 404, 412, 422),
)
async def confirm_qualification(
    qualification_id: int,
    body: ConfirmRequest,
    session: SessionDep,
    response: Response,
    principal: CanWrite,
    if_match: IfMatch = None,
) -> QualificationRead:
    """Record the 6-month confirmation (ISO 9606-1 9.2): who, when, and the evidence. For an
    ASME IX qualification it is evidence of welding with the process and restarts its clock."""
    q = await service.confirm(
        session, qualification_id, principal, body.confirmed_on or today(), body.evidence, if_match
    )
    return with_etag(response, qualification_read(q))


@router.get("/due", response_model=list[Due], responses=errors(401, 403, 422))
async def qualifications_due(
    session: SessionDep,
    _: CanRead,
    days: Annotated[int, Query(ge=0, le=3650, description="Look this many days ahead")] = 30,
) -> list[Due]:
    """What lapses within `days` (or has lapsed), soonest first, per qualification of active
    employees: expiry, 6-month confirmation due, ASME process clock."""
    return await service.due(session, today(), days)
