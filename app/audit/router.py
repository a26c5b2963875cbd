from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from app.audit import service
from app.audit.schemas import AuditPage, AuditQuery
from app.auth.deps import CanReadAudit
from app.core.db import SessionDep
from app.core.http import Router
from app.core.openapi import errors

router = Router(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage, responses=errors(401, 403, 422))
async def list_audit_events(
    query: Annotated[AuditQuery, Query()], session: SessionDep, _: CanReadAudit
) -> Response:
    """Who changed what and when (managers and admins): every create, update and delete of a
    resource, with the changed fields' old and new values and the request id. Newest first;
    filter by `resource`, `resource_id`, `actor`, `action`, `from` and `to`, and follow
    `next_cursor` with `after_id` for the next page (constant time at any depth). Events are
    never edited or deleted."""
    return await service.list_events(session, query)
