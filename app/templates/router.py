from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from app.auth.deps import CanRead, CanWrite
from app.core import crud
from app.core.db import SessionDep
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.models import Template
from app.templates import service
from app.templates.schemas import TemplateCreate, TemplateQuery, TemplateRead, TemplateUpdate

router = Router(prefix="/templates", tags=["templates"])


@router.get("", response_model=Page[TemplateRead], responses=errors(401, 403, 422))
async def list_templates(
    query: Annotated[TemplateQuery, Query()], session: SessionDep, _: CanRead
) -> Page[TemplateRead]:
    """List import templates; filter by machine, active or name."""
    return await service.list_templates(session, query)


@router.get("/{template_id:int}", response_model=TemplateRead, responses=errors(401, 403, 404))
async def get_template(
    template_id: int, session: SessionDep, response: Response, _: CanRead
) -> TemplateRead:
    """One template, with its column mapping and its `ETag`."""
    template = await crud.get(session, Template, template_id)
    return with_etag(response, TemplateRead.model_validate(template))


@router.post(
    "",
    response_model=TemplateRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
)
async def create_template(
    body: TemplateCreate, session: SessionDep, request: Request, response: Response, _: CanWrite
) -> TemplateRead:
    """Describe how a machine's Excel export maps to entry fields. `name` is unique."""
    template = await crud.create(session, Template, body)
    read = TemplateRead.model_validate(template)
    return created(request, response, "get_template", read, template_id=template.id)


@router.put(
    "/{template_id:int}",
    response_model=TemplateRead,
    responses=errors(401, 403, 404, 409, 412, 422),
)
async def replace_template(
    template_id: int,
    body: TemplateCreate,
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> TemplateRead:
    """Replace a template: fields left out go back to their defaults."""
    template = await crud.replace(session, Template, template_id, body, if_match)
    return with_etag(response, TemplateRead.model_validate(template))


@router.patch(
    "/{template_id:int}",
    response_model=TemplateRead,
    responses=errors(401, 403, 404, 409, 412, 422),
)
async def patch_template(
    template_id: int,
    body: TemplateUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> TemplateRead:
    """Change only the fields sent; `null` clears an optional field."""
    template = await crud.patch(session, Template, TemplateCreate, template_id, body, if_match)
    return with_etag(response, TemplateRead.model_validate(template))


@router.delete(
    "/{template_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412),
)
async def delete_template(
    template_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete a template; 409 naming what still refers to it (imports, entries)."""
    await crud.delete(session, Template, template_id, if_match)
