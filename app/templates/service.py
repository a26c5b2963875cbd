from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.models import Template
from app.templates.schemas import TemplateQuery, TemplateRead


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
