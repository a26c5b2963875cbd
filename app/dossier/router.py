"""GET /workorders/{id}/dossier: the one document an auditor asks for, as JSON or as a PDF."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import Query, Request, Response

from app.auth.deps import CanRead
from app.core import clock
from app.core.db import SessionDep
from app.core.http import Router
from app.core.openapi import errors
from app.dossier import pdf, service
from app.dossier.schemas import Dossier
from app.storage.base import content_disposition

PDF = "application/pdf"
router = Router(prefix="/workorders", tags=["dossier"])


@router.get(
    "/{work_order_id:int}/dossier",
    response_model=Dossier,
    responses={
        **errors(401, 403, 404, 422),
        200: {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Dossier"}},
                PDF: {},  # a file: its schema comes from finish_schema
            },
            "description": "The dossier as JSON, or as a PDF (`format=pdf` or "
            "`Accept: application/pdf`)",
        },
    },
)
async def dossier(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    _: CanRead,
    format: Annotated[Literal["json", "pdf"] | None, Query()] = None,
) -> Response | Dossier:
    """Per weld: the WPS and revision, the welder and the qualification that covered them on
    the day, the conformance of its runs, the lots it took, its inspections with ISO 6520-1
    defects and ISO 5817 level, its attachments; the work order's lots, inspections,
    attachments and audit summary."""
    found = await service.dossier(session, work_order_id, clock.today())
    wants_pdf = format == "pdf" or (
        format is None and PDF in request.headers.get("accept", "").split(",")[0]
    )
    if not wants_pdf:
        return found
    body = await anyio.to_thread.run_sync(pdf.render, found)
    name = f"dossier-{found.work_order['order_id']}.pdf"
    return Response(
        body, media_type=PDF, headers={"Content-Disposition": content_disposition(name)}
    )
