"""The WPS register.

Rules:
- a WPS is created as a draft (revision 0) and edited only while it is a draft;
- approving a draft makes it the approved revision of its number; the revision approved before
  it becomes `superseded`; work orders whose free-text `wps_number` names it and that have no
  WPS yet are linked to it;
- an approved (or superseded) revision is never edited in place: `revise` copies it into a new
  draft revision, which is approved in its turn; one draft per number at a time;
- only an approved revision goes on new work (`approved_for_work`); work that already has a
  revision keeps it when a newer one is approved;
- a draft that nothing refers to may be deleted; approved and superseded revisions stay, as the
  record of what work was done under.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth.principal import Principal
from app.core import audit, crud
from app.core.errors import Conflict, field_error, invalid_fields
from app.core.pagination import Page, contains_any, eq, page_of, paginate, where
from app.models import WorkOrder, Wps, WpsPass, WpsStatus
from app.models.base import utcnow
from app.wps.schemas import WpsCreate, WpsQuery, WpsRead

PASSES = selectinload(Wps.passes)


async def get_wps(session: AsyncSession, wps_id: int, if_match: str | None = None) -> Wps:
    return await crud.get_for_write(session, Wps, wps_id, if_match, PASSES)


async def list_wps(session: AsyncSession, query: WpsQuery) -> Page[WpsRead]:
    group = None
    if query.material_group:
        joined = literal(",") + Wps.material_groups + literal(",")
        group = joined.contains(f",{query.material_group},", autoescape=True)
    stmt = (
        select(Wps)
        .options(PASSES)
        .where(
            *where(
                contains_any(query.number, Wps.number),
                eq(Wps.process, query.process),
                eq(Wps.status, query.status),
                eq(Wps.joint, query.joint),
                group,
            )
        )
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Wps, query.sort_by), tiebreak=Wps.id
    )
    return page_of([WpsRead.model_validate(r) for r in rows], counted, query)


def _columns(body: WpsCreate) -> dict[str, Any]:
    values = body.model_dump(exclude={"passes"})
    values["material_groups"] = ",".join(body.material_groups)
    values["positions"] = ",".join(body.positions)
    return values


def _as_written(wps: Wps) -> dict[str, Any]:
    """The stored WPS as the fields of a WpsCreate (lists split, passes included)."""
    return WpsRead.model_validate(wps).model_dump(include=set(WpsCreate.model_fields))


def _passes(body: WpsCreate) -> list[WpsPass]:
    return [WpsPass(**p.model_dump()) for p in sorted(body.passes, key=lambda p: p.seq)]


async def create_wps(session: AsyncSession, body: WpsCreate) -> Wps:
    """A new number starts as draft revision 0 (409 when the number exists: revise it)."""
    await _number_free(session, body.number)
    wps = Wps(**_columns(body), revision=0, status=WpsStatus.draft, passes=_passes(body))
    session.add(wps)
    await crud.flush(session, Wps)
    return await get_wps(session, wps.id)


def _draft(wps: Wps) -> None:
    if wps.status != WpsStatus.draft:
        raise Conflict(
            f"WPS {wps.number} revision {wps.revision} is {wps.status.value}: an approved WPS "
            f"is not edited in place; POST /api/v1/wps/{wps.id}/revise makes a new revision",
            extra={"wps_status": wps.status.value},
        )


async def _number_free(session: AsyncSession, number: str) -> None:
    taken = await session.scalar(select(Wps.id).where(Wps.number == number).limit(1))
    if taken is not None:
        raise Conflict(
            f"WPS {number} exists already (id {taken}); make a new revision of it instead",
            extra={"fields": ["number"], "wps_id": taken},
        )


async def _write(session: AsyncSession, wps: Wps, body: WpsCreate) -> Wps:
    _draft(wps)
    if body.number != wps.number:
        if wps.revision > 0:
            message = "a revision keeps the number of the WPS it revises"
            raise invalid_fields([field_error("number", message, "immutable")])
        await _number_free(session, body.number)
    for key, value in _columns(body).items():
        setattr(wps, key, value)
    wps.passes.clear()
    await session.flush()  # the old passes go before the new ones take their seq
    wps.passes.extend(_passes(body))
    await crud.flush(session, Wps)
    return wps


async def replace_wps(
    session: AsyncSession, wps_id: int, body: WpsCreate, if_match: str | None
) -> Wps:
    """PUT: a draft only (409 otherwise)."""
    return await _write(session, await get_wps(session, wps_id, if_match), body)


async def patch_wps(
    session: AsyncSession, wps_id: int, patch: BaseModel, if_match: str | None
) -> Wps:
    """PATCH: a draft only; `passes`, when sent, replaces the whole list."""
    wps = await get_wps(session, wps_id, if_match)
    _draft(wps)
    values = {**_as_written(wps), **patch.model_dump(exclude_unset=True)}
    try:
        merged = WpsCreate.model_validate(values)
    except ValidationError as exc:
        raise crud.validation_failed(exc) from exc
    return await _write(session, wps, merged)


async def delete_wps(session: AsyncSession, wps_id: int, if_match: str | None) -> None:
    """A draft nothing refers to; approved and superseded revisions are the record (409)."""
    wps = await get_wps(session, wps_id, if_match)
    if wps.status != WpsStatus.draft:
        raise Conflict(
            f"WPS {wps.number} revision {wps.revision} is {wps.status.value}: it stays as the "
            "record of the work done under it",
            extra={"wps_status": wps.status.value},
        )
    await crud.remove(session, wps)


async def approve_wps(
    session: AsyncSession, wps_id: int, principal: Principal, if_match: str | None
) -> Wps:
    wps = await get_wps(session, wps_id, if_match)
    _draft(wps)
    if not wps.passes:
        raise Conflict(f"WPS {wps.number} has no passes: a WPS is approved with its passes")
    approved = (Wps.number == wps.number, Wps.status == WpsStatus.approved, Wps.id != wps.id)
    for superseded in (await session.scalars(select(Wps.id).where(*approved))).all():
        audit.record(session, "update", "wps", superseded, {"status": ("approved", "superseded")})
    await session.execute(
        update(Wps)
        .where(*approved)
        .values(status=WpsStatus.superseded, version=Wps.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    wps.status, wps.approved_at, wps.approved_by = WpsStatus.approved, utcnow(), principal.label
    unlinked = (WorkOrder.wps_number == wps.number, WorkOrder.wps_id.is_(None))
    for order_id in (await session.scalars(select(WorkOrder.id).where(*unlinked))).all():
        audit.record(session, "update", "workorders", order_id, {"wps_id": (None, wps.id)})
    await session.execute(
        update(WorkOrder)
        .where(*unlinked)
        .values(wps_id=wps.id, version=WorkOrder.version + 1)
        .execution_options(synchronize_session=False)
    )
    await crud.flush(session, Wps)
    return wps


async def revise_wps(session: AsyncSession, wps_id: int) -> Wps:
    """A new draft revision, a copy of this one, that will supersede it once approved."""
    source = await get_wps(session, wps_id)
    if source.status != WpsStatus.approved:
        raise Conflict(
            f"WPS {source.number} revision {source.revision} is {source.status.value}: "
            "revise the approved revision",
            extra={"wps_status": source.status.value},
        )
    draft = await session.scalar(
        select(Wps.id).where(Wps.number == source.number, Wps.status == WpsStatus.draft)
    )
    if draft is not None:
        raise Conflict(
            f"WPS {source.number} has a draft revision already (id {draft}): edit that one",
            extra={"wps_id": draft},
        )
    latest = await session.scalar(select(func.max(Wps.revision)).where(Wps.number == source.number))
    copied = WpsCreate.model_validate(_as_written(source))
    wps = Wps(
        **_columns(copied),
        revision=int(latest or 0) + 1,
        status=WpsStatus.draft,
        supersedes_id=source.id,
        passes=_passes(copied),
    )
    session.add(wps)
    await crud.flush(session, Wps)
    return await get_wps(session, wps.id)


async def approved_for_work(
    session: AsyncSession, wps_id: int | None, field: str = "wps_id"
) -> Wps | None:
    """The WPS new work goes under: it must exist and be approved (422 naming `field`)."""
    if wps_id is None:
        return None
    wps = await session.get(Wps, wps_id)
    if wps is None:
        raise invalid_fields([field_error(field, f"wps {wps_id} does not exist", "reference")])
    if wps.status != WpsStatus.approved:
        raise invalid_fields(
            [
                field_error(
                    field,
                    f"WPS {wps.number} revision {wps.revision} is {wps.status.value}; "
                    "only an approved WPS goes on new work",
                    "wps_not_approved",
                )
            ]
        )
    return wps
