"""The work-order dossier, gathered: per weld its WPS revision, its welder and the qualification
that covered them on the day, the conformance of its runs, the lots it took, its inspections
with ISO 6520-1 defects and ISO 5817 level, its attachments; the work order's own lots,
inspections and attachments, and its audit summary. A fixed number of queries per dossier, each
reading only this work order's rows (ADR 0032)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.audit.service import event_read
from app.core.clock import workshop_day
from app.core.errors import AppError
from app.dossier import schemas as d
from app.inventory.lots import consumed, work_order_lots
from app.models import (
    Attachment,
    AuditEvent,
    Employee,
    Inspection,
    Item,
    Lot,
    Qualification,
    StockMovement,
    Weld,
    WorkshopEntry,
    Wps,
)
from app.qualifications import service as qualifications
from app.work_orders.schemas import WorkOrderRead
from app.work_orders.service import get_work_order

FAILING_SHOWN = 20
RECENT_EVENTS = 20


async def dossier(session: AsyncSession, work_order_id: int, today: date) -> d.Dossier:
    order = await get_work_order(session, work_order_id)
    welds = list(
        await session.scalars(
            select(Weld).where(Weld.work_order_id == work_order_id).order_by(Weld.reference)
        )
    )
    ids = [w.id for w in welds]
    runs = await _runs(session, ids)
    inspections = await _inspections(session, work_order_id)
    lots = await _weld_lots(session, ids)
    wps = await _wps(session, {w.wps_id for w in welds if w.wps_id})
    welders = await _welders(session, {w.welder_id for w in welds if w.welder_id})
    attachments = await _attachments(session, work_order_id, ids)
    items = []
    for weld in welds:
        last_run = runs[weld.id].last_at
        day = workshop_day(last_run) if last_run else today
        items.append(
            d.DossierWeld(
                id=weld.id,
                reference=weld.reference,
                joint=weld.joint.value,
                thickness=weld.thickness,
                diameter=weld.diameter,
                position=weld.position,
                material_group=weld.material_group,
                process=weld.process or (wps[weld.wps_id].process if weld.wps_id else None),
                status=weld.status.value,
                wps=wps.get(weld.wps_id) if weld.wps_id else None,
                welder=welders.get(weld.welder_id) if weld.welder_id else None,
                qualification=await _qualification(session, weld, day),
                override=(
                    {"by": weld.override_by, "at": weld.override_at, "reason": weld.override_reason}
                    if weld.override_reason
                    else None
                ),
                conformance=runs[weld.id],
                lots=lots.get(weld.id, []),
                inspections=inspections.get(weld.id, []),
                attachments=attachments.get(("welds", weld.id), []),
            )
        )
    return d.Dossier(
        generated_at=datetime.now(UTC),
        work_order=WorkOrderRead.model_validate(order).model_dump(mode="json"),
        welds=items,
        lots=[
            d.DossierLot(
                lot_id=lot.lot_id,
                lot_number=lot.lot_number,
                item_name=lot.item_name,
                quantity=lot.quantity,
            )
            for lot in await work_order_lots(session, work_order_id)
        ],
        inspections=inspections.get(None, []),
        attachments=attachments.get(("workorders", work_order_id), []),
        audit=await _audit(session, work_order_id, ids),
    )


async def _runs(session: AsyncSession, weld_ids: list[int]) -> dict[int, d.DossierRuns]:
    e = WorkshopEntry
    found: dict[int, d.DossierRuns] = defaultdict(
        lambda: d.DossierRuns(
            runs=0, passed=0, failed=0, not_checkable=0, first_at=None, last_at=None, failing=[]
        )
    )
    if not weld_ids:
        return found
    judged = e.verdict.is_not(None)
    rows = await session.execute(
        select(
            e.weld_id,
            func.count(),
            func.sum(case((e.verdict == "pass", 1), else_=0)),
            func.sum(case((e.verdict == "fail", 1), else_=0)),
            func.sum(case((e.verdict == "not_checkable", 1), else_=0)),
            func.min(e.recorded_at),
            func.max(e.recorded_at),
        )
        .where(e.weld_id.in_(weld_ids), judged)
        .group_by(e.weld_id)
    )
    for weld_id, runs, passed, failed, unchecked, first, last in rows.all():
        found[weld_id] = d.DossierRuns(
            runs=runs,
            passed=int(passed or 0),
            failed=int(failed or 0),
            not_checkable=int(unchecked or 0),
            first_at=first,
            last_at=last,
            failing=[],
        )
    failing = await session.execute(
        select(e.weld_id, e.recorded_at, e.conformance)
        .where(e.weld_id.in_(weld_ids), e.verdict == "fail")
        .order_by(e.weld_id, e.id)
    )
    for weld_id, at, conformance in failing.all():
        shown = found[weld_id].failing
        if len(shown) < FAILING_SHOWN:
            texts = "; ".join(r["text"] for r in (conformance or {}).get("reasons", []))
            shown.append(f"{at:%Y-%m-%d %H:%M} UTC: {texts}" if at else texts)
    return found


async def _inspections(
    session: AsyncSession, work_order_id: int
) -> dict[int | None, list[d.DossierInspection]]:
    inspector = aliased(Employee)
    rows = await session.execute(
        select(Inspection, inspector.full_name)
        .outerjoin(inspector, inspector.id == Inspection.inspector_id)
        .where(Inspection.work_order_id == work_order_id)
        .order_by(Inspection.inspected_at, Inspection.id)
    )
    found: dict[int | None, list[d.DossierInspection]] = defaultdict(list)
    for inspection, name in rows.all():
        found[inspection.weld_id].append(
            d.DossierInspection(
                id=inspection.id,
                method=inspection.method.value,
                result=inspection.result.value,
                quality_level=inspection.quality_level.value if inspection.quality_level else None,
                defects=[
                    d.DossierDefect(
                        code=int(defect["code"]),
                        description=defect.get("description"),
                        count=int(defect.get("count", 1)),
                    )
                    for defect in inspection.defects or []
                ],
                inspected_at=inspection.inspected_at,
                inspector=name,
            )
        )
    return found


async def _weld_lots(
    session: AsyncSession, weld_ids: list[int]
) -> dict[int | None, list[d.DossierLot]]:
    found: dict[int | None, list[d.DossierLot]] = defaultdict(list)
    if not weld_ids:
        return found
    m = StockMovement
    rows = await session.execute(consumed(m.weld_id.in_(weld_ids), m.weld_id))
    for weld_id, lot_id, number, _, item, quantity in rows.all():
        found[weld_id].append(
            d.DossierLot(lot_id=lot_id, lot_number=number, item_name=item, quantity=quantity)
        )
    return found
    rows = await session.execute(
        select(m.weld_id, m.lot_id, Lot.lot_number, Item.item_name, func.sum(-m.delta))
        .join(Lot, Lot.id == m.lot_id)
        .join(Item, Item.id == Lot.item_id)
        .where(m.weld_id.in_(weld_ids), m.delta < 0)
        .group_by(m.weld_id, m.lot_id, Lot.lot_number, Item.item_name)
        .order_by(m.weld_id, m.lot_id)
    )
    for weld_id, lot_id, number, item, quantity in rows.all():
        found[weld_id].append(
            d.DossierLot(lot_id=lot_id, lot_number=number, item_name=item, quantity=quantity)
        )
    return found


async def _wps(session: AsyncSession, ids: set[int]) -> dict[int, d.DossierWps]:
    if not ids:
        return {}
    rows = await session.scalars(select(Wps).where(Wps.id.in_(ids)))
    return {
        w.id: d.DossierWps(
            id=w.id,
            number=w.number,
            revision=w.revision,
            status=w.status.value,
            standard=w.standard.value,
            process=w.process,
        )
        for w in rows
    }


async def _welders(session: AsyncSession, ids: set[int]) -> dict[int, d.DossierWelder]:
    if not ids:
        return {}
    rows = await session.scalars(select(Employee).where(Employee.id.in_(ids)))
    return {
        e.id: d.DossierWelder(
            id=e.id, name=e.full_name, employee_number=e.employee_number, badge=e.badge
        )
        for e in rows
    }


async def _qualification(
    session: AsyncSession, weld: Weld, day: date
) -> d.DossierQualification | None:
    """The engine's answer for the weld's welder on `day`: the qualification that covered
    them, or the one that came closest and why not."""
    if weld.welder_id is None:
        return None
    try:
        variables = await qualifications.weld_variables(session, weld)
    except AppError:  # a weld without a process: nothing for the engine to weigh
        return None
    answer = await qualifications.qualified(session, weld.welder_id, variables, day)
    held = None
    if answer.qualification_id is not None:
        held = await session.get(Qualification, answer.qualification_id)
    reasons = [c.reason for c in answer.checks if not c.covered]
    reasons += [lapse.reason for lapse in answer.validity]
    return d.DossierQualification(
        on=day,
        qualified=answer.qualified,
        qualification_id=answer.qualification_id,
        certificate_number=held.certificate_number if held else None,
        standard=held.standard.value if held else None,
        reasons=reasons,
    )


async def _attachments(
    session: AsyncSession, work_order_id: int, weld_ids: list[int]
) -> dict[tuple[str, int], list[d.DossierAttachment]]:
    """The attachments of the work order and of its welds, by (owner, id)."""
    a = Attachment
    rows = await session.scalars(
        select(a)
        .where(
            or_(
                (a.owner == "workorders") & (a.owner_id == work_order_id),
                (a.owner == "welds") & a.owner_id.in_(weld_ids),
            )
        )
        .order_by(a.id)
    )
    found: dict[tuple[str, int], list[d.DossierAttachment]] = defaultdict(list)
    for row in rows:
        found[row.owner, row.owner_id].append(
            d.DossierAttachment(
                id=row.id, filename=row.filename, content_type=row.content_type, size=row.size
            )
        )
    return found


async def _audit(session: AsyncSession, work_order_id: int, weld_ids: list[int]) -> d.DossierAudit:
    a = AuditEvent
    mine = or_(
        (a.resource == "workorders") & (a.resource_id == str(work_order_id)),
        (a.resource == "welds") & a.resource_id.in_([str(i) for i in weld_ids]),
    )
    counts = await session.execute(
        select(a.action, func.count(), func.min(a.at), func.max(a.at))
        .where(mine)
        .group_by(a.action)
    )
    by_action: dict[str, int] = {}
    first: datetime | None = None
    last: datetime | None = None
    for action, count, low, high in counts.all():
        by_action[str(getattr(action, "value", action))] = int(count)
        first = low if first is None or (low and low < first) else first
        last = high if last is None or (high and high > last) else last
    recent = await session.execute(
        select(*a.__table__.c).where(mine).order_by(a.id.desc()).limit(RECENT_EVENTS)
    )
    return d.DossierAudit(
        events=sum(by_action.values()),
        by_action=by_action,
        first_at=first,
        last_at=last,
        recent=[event_read(dict(r._mapping)).model_dump(mode="json") for r in recent.all()],
    )
