"""The engine on stored data: which qualifications an employee holds, and what they cover.

Ranges are derived for ISO 9606-1 qualifications that record their test piece. A record made
before test pieces were kept (its old free-text ranges are in `notes`), or of a standard whose
range tables are not kept here (ASME IX's QW-452, AWS D1.1), covers nothing in the engine and
says so; an ASME IX qualification still has its process clock in the list of what lapses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.conformance.evidence import Evidence, last_run
from app.core import clock, crud
from app.core.errors import field_error, invalid_fields
from app.models import Employee, Qualification, QualificationConfirmation, Weld, Wps
from app.qualifications import engine, rules
from app.qualifications.schemas import Check, Due, EligibleWelder, Lapse, Qualified, QualifiedQuery

DERIVED = ("ISO 9606-1",)


def test_piece(q: Qualification) -> rules.TestPiece | None:
    if q.product is None or q.joint is None or q.test_thickness is None or not q.test_position:
        return None
    return rules.TestPiece(
        process=q.process,
        product=q.product.value,
        joint=q.joint,
        test_thickness=q.test_thickness,
        test_position=q.test_position,
        test_diameter=q.test_diameter,
        material_group=q.material_group,
        transfer_mode=q.transfer_mode.value if q.transfer_mode else None,
        fillet_supplement=q.fillet_supplement,
    )


def ranges_of(q: Qualification, piece: rules.TestPiece | None = None) -> rules.Ranges | None:
    piece = piece or test_piece(q)
    if piece is None or q.standard.value not in DERIVED:
        return None
    try:
        return rules.derive(piece)
    except rules.NoRule:
        return None


def held_of(q: Qualification, welded: Evidence | None = None) -> engine.Held | None:
    piece = test_piece(q)
    ranges = ranges_of(q, piece)
    if piece is None or ranges is None:
        return None
    return engine.Held(dates_of(q, welded), piece, ranges)


def dates_of(q: Qualification, welded: Evidence | None = None) -> engine.Dates:
    """The qualification's dates; `welded`, the latest run of the welder with its process,
    moves the ASME IX process clock (a confirmation moves it too)."""
    last_welded = q.last_welded_on
    if welded is not None and q.standard.value == "ASME IX":
        last_welded = max(last_welded or welded.on, welded.on)
    return engine.Dates(
        id=q.id,
        certificate=q.certificate_number,
        standard=q.standard.value,
        process=q.process,
        issued_on=q.issued_on,
        expires_on=q.expires_on,
        last_confirmed_on=q.last_confirmed_on,
        last_welded_on=last_welded,
    )


def evidence_processes(q: Qualification) -> frozenset[str]:
    """The processes whose runs are evidence for `q`: ASME IX counts its own process (each has
    its clock); ISO 9606-1 work "in the range", so the processes it covers."""
    if q.standard.value == "ASME IX":
        return frozenset({q.process})
    return rules.equivalent_processes(q.process)


async def evidence_of(
    session: AsyncSession, qualifications: Sequence[Qualification], before: datetime | None
) -> dict[int, Evidence | None]:
    """Per ASME IX qualification, the latest run of its welder with its process (before
    `before`): the evidence that moves its process clock. (ISO 9606-1 validity moves only with
    a coordinator's confirmation.)"""
    return {
        q.id: await last_run(session, q.employee_id, evidence_processes(q), before)
        for q in qualifications
        if q.standard.value == "ASME IX"
    }


def check_piece(q: Qualification) -> None:
    """A test piece the rule tables cannot read is refused at write (422 naming the field)."""
    piece = test_piece(q)
    if piece is None or q.standard.value not in DERIVED:
        return
    try:
        rules.derive(piece)
    except rules.NoRule as exc:
        raise invalid_fields([field_error("test_position", str(exc), "no_rule")]) from exc


async def qualifications_of(
    session: AsyncSession, employee_ids: Sequence[int]
) -> dict[int, list[Qualification]]:
    rows = await session.scalars(
        select(Qualification).where(Qualification.employee_id.in_(employee_ids))
    )
    held: dict[int, list[Qualification]] = {i: [] for i in employee_ids}
    for row in rows:
        held[row.employee_id].append(row)
    return held


def _answer(
    employee_id: int, on: date, answer: engine.Answer, others: list[Qualification]
) -> Qualified:
    checks = [Check(**vars(c)) for c in answer.checks]
    unusable = [q for q in others if held_of(q) is None]
    if not answer.qualified and unusable:
        checks += [
            Check(
                variable="qualification",
                value=q.certificate_number,
                covered=False,
                range="",
                qualification_id=q.id,
                reason=f"cert {q.certificate_number} ({q.standard.value}) covers nothing here: "
                + (
                    "no test piece recorded"
                    if test_piece(q) is None
                    else f"no range tables kept for {q.standard.value}"
                ),
            )
            for q in unusable
        ]
    return Qualified(
        employee_id=employee_id,
        on=on,
        qualified=answer.qualified,
        qualification_id=answer.qualification_id,
        checks=checks,
        validity=[Lapse(**vars(lapse)) for lapse in answer.validity],
    )


def assess(
    employee_id: int,
    qualifications: list[Qualification],
    weld: engine.Weld,
    on: date,
    welded: dict[int, Evidence | None] | None = None,
) -> Qualified:
    """The engine's answer; `welded` is the evidence of welding before `on`, per
    qualification (evidence_of)."""
    welded = welded or {}
    held = [h for q in qualifications if (h := held_of(q, welded.get(q.id))) is not None]
    return _answer(employee_id, on, engine.assess(weld, held, on), qualifications)


async def weld_variables(session: AsyncSession, weld: Weld) -> engine.Weld:
    process = weld.process
    if process is None and weld.wps_id is not None:
        wps = await session.get(Wps, weld.wps_id)
        process = wps.process if wps else None
    if process is None:
        raise invalid_fields(
            [
                field_error(
                    "process", "the weld has no process and no WPS to take it from", "missing"
                )
            ]
        )
    return engine.Weld(
        process=process,
        joint=weld.joint.value,
        thickness=weld.thickness,
        position=weld.position,
        diameter=weld.diameter,
        material_group=weld.material_group,
    )


async def qualified_for(
    session: AsyncSession, employee_id: int, query: QualifiedQuery, today: date
) -> Qualified:
    """The engine's answer for a weld on record or for variables given one by one."""
    if query.weld_id is not None:
        variables = await weld_variables(session, await crud.get(session, Weld, query.weld_id))
    else:
        assert query.process and query.joint and query.thickness is not None and query.position
        variables = engine.Weld(
            process=query.process,
            joint=query.joint.value,
            thickness=query.thickness,
            position=query.position,
            diameter=query.diameter,
            material_group=query.material_group,
            transfer_mode=query.transfer_mode.value if query.transfer_mode else None,
        )
    return await qualified(session, employee_id, variables, query.on or today)


async def qualified(
    session: AsyncSession, employee_id: int, weld: engine.Weld, on: date
) -> Qualified:
    employee = await crud.get(session, Employee, employee_id)
    held = (await qualifications_of(session, [employee_id]))[employee_id]
    welded = await evidence_of(session, held, clock.day_start(on))
    answer = assess(employee_id, held, weld, on, welded)
    if not employee.active:
        reason = f"employee {employee_id} is not active"
        answer.qualified = False
        answer.checks.append(
            Check(
                variable="employee",
                value=None,
                covered=False,
                range="",
                qualification_id=None,
                reason=reason,
            )
        )
    return answer


async def eligible(session: AsyncSession, weld: Weld, on: date) -> list[EligibleWelder]:
    """Every active employee with a qualification, best covered first."""
    variables = await weld_variables(session, weld)
    people = (
        await session.execute(
            select(Employee.id, Employee.full_name)
            .where(Employee.active.is_(True))
            .where(Employee.id.in_(select(Qualification.employee_id)))
        )
    ).all()
    held = await qualifications_of(session, [p.id for p in people])
    answers = []
    for person in people:
        welded = await evidence_of(session, held[person.id], clock.day_start(on))
        answer = assess(person.id, held[person.id], variables, on, welded)
        answers.append(EligibleWelder(**answer.model_dump(), name=person.full_name))
    answers.sort(key=lambda a: (not a.qualified, *rank(a), a.name))
    return answers


def rank(answer: Qualified) -> tuple[int, int]:
    return (sum(not c.covered for c in answer.checks), len(answer.validity))


async def confirm(
    session: AsyncSession,
    qualification_id: int,
    principal: Principal,
    confirmed_on: date,
    evidence: str | None,
    if_match: str | None,
) -> Qualification:
    """ISO 9606-1 9.2: the coordinator confirms the welder worked in the range; for ASME IX
    the confirmation is evidence of welding with the process (its clock restarts)."""
    q = await crud.get_for_write(session, Qualification, qualification_id, if_match)
    if confirmed_on > clock.today() + timedelta(days=1):  # a day of grace for time zones
        raise invalid_fields([field_error("confirmed_on", "in the future", "range")])
    if confirmed_on < q.issued_on:
        raise invalid_fields(
            [
                field_error(
                    "confirmed_on", f"before the qualification was issued ({q.issued_on})", "range"
                )
            ]
        )
    session.add(
        QualificationConfirmation(
            qualification_id=q.id,
            confirmed_on=confirmed_on,
            confirmed_by=principal.label,
            evidence=evidence,
        )
    )
    if q.standard.value == "ASME IX":
        q.last_welded_on = max(q.last_welded_on or confirmed_on, confirmed_on)
    else:
        q.last_confirmed_on = max(q.last_confirmed_on or confirmed_on, confirmed_on)
    await crud.flush(session, Qualification)
    return q


async def due(session: AsyncSession, today: date, days: int) -> list[Due]:
    """What lapses within `days` (or has lapsed), per qualification of active employees."""
    horizon = today + timedelta(days=days)
    rows = await session.execute(
        select(Qualification, Employee.full_name)
        .join(Employee, Employee.id == Qualification.employee_id)
        .where(Employee.active.is_(True))
        .order_by(Qualification.employee_id, Qualification.id)
    )
    found: list[Due] = []
    for q, name in rows:
        welded = await last_run(session, q.employee_id, evidence_processes(q), None)
        for lapse in engine.lapses(dates_of(q, welded), horizon):
            if lapse.kind != "not_yet_issued":
                found.append(
                    Due(
                        **vars(lapse),
                        employee_id=q.employee_id,
                        employee_name=name,
                        last_evidence_on=welded.on if welded else None,
                        last_evidence_entry_id=welded.entry_id if welded else None,
                        last_evidence_process=welded.process if welded else None,
                    )
                )
    return sorted(found, key=lambda lapse: (lapse.since, lapse.employee_name))
