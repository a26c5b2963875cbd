from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.core.repository import Repository
from app.models import Template
from app.templates.schemas import TemplateCreate, TemplateQuery, TemplateRead


def repo(session: AsyncSession) -> Repository[Template]:
    return Repository(session, Template)


async def list_templates(session: AsyncSession, query: TemplateQuery) -> Page[TemplateRead]:
    stmt = select(Template).where(
        *where(
            eq(Template.machine_id, query.machine_id),
            eq(Template.active, query.active),
            contains_any(query.q, Template.name),
        )
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Template, query.sort_by), tiebreak=Template.id
    )
    return page_of([TemplateRead.model_validate(r) for r in rows], counted, query)


async def create_template(session: AsyncSession, body: TemplateCreate) -> Template:
    return await crud.create(repo(session), body)


async def replace_template(
    session: AsyncSession, template_id: int, body: TemplateCreate, if_match: str | None
) -> Template:
    return await crud.replace_by_id(repo(session), template_id, body, if_match)


async def patch_template(
    session: AsyncSession, template_id: int, patch: BaseModel, if_match: str | None
) -> Template:
    return await crud.patch_by_id(repo(session), TemplateCreate, template_id, patch, if_match)


async def delete_template(session: AsyncSession, template_id: int, if_match: str | None) -> None:
    """Delete a template no import, entry or schedule refers to (undo its imports first)."""
    await crud.delete_by_id(repo(session), template_id, if_match)
