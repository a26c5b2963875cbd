"""Conformance on stored data: the context the parser resolves runs with, the welder's
qualification for each run's weld on its day, an import's summary, and the re-check.

The parser judges each run's parameters (app/conformance/runs.py); what needs the database is
here: the engine of app/qualifications, asked once per welder, weld and day of an import, with
the evidence of welding before that day (app/conformance/evidence.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.conformance import checks, totals
from app.conformance.evidence import Evidence
from app.conformance.runs import (
    BITS,
    RUN_COLUMNS,
    Context,
    Judge,
    WeldPlan,
    WpsPlan,
    columns_by_field,
    unresolved_errors,
)
from app.core.clock import day_start, workshop_day
from app.core.errors import AppError
from app.machines.validation import lapsed_days
from app.models import (
    Employee,
    Qualification,
    Template,
    Weld,
    WorkOrder,
    WorkOrderStatus,
    WorkshopEntry,
    Wps,
    WpsStatus,
)
from app.qualifications import engine
from app.qualifications import service as qualifications

CLOSED = (WorkOrderStatus.completed, WorkOrderStatus.cancelled)
# Runs counted by what an import's summary and conformance totals depend on: (day, welder_id,
# wps_id, weld_id, verdict, failures) -> runs. The parser counts a chunk's runs so as it judges
# them: the API reads no run of a chunk whose welders were qualified and whose machine's
# validation had not lapsed (`settle`).
Group = tuple[date | None, int | None, int | None, int | None, str | None, int | None]
Groups = Counter[Group]


def run_fields(template: Template) -> list[str]:
    return [m["field"] for m in template.mapping]


async def context(session: AsyncSession, template: Template) -> Context:
    """Badges, approved WPS with their passes, the template's job map, every weld."""
    rows = await session.execute(
        select(Employee.badge, Employee.id).where(Employee.badge.is_not(None))
    )
    badges = {badge: id_ for badge, id_ in rows.all() if badge is not None}
    approved = await session.scalars(
        select(Wps).where(Wps.status == WpsStatus.approved).options(selectinload(Wps.passes))
    )
    plans = [
        WpsPlan(
            w.id,
            w.number,
            w.revision,
            w.process,
            {
                p.seq: checks.PassRanges(
                    wps=f"WPS {w.number} rev {w.revision}",
                    seq=p.seq,
                    current=(p.current_min, p.current_max),
                    voltage=(p.voltage_min, p.voltage_max),
                    wire_feed=(p.wire_feed_min, p.wire_feed_max),
                    travel_speed=(p.travel_speed_min, p.travel_speed_max),
                    heat_input=(p.heat_input_min, p.heat_input_max),
                )
                for p in w.passes
            },
        )
        for w in approved
    ]
    welds = await session.execute(
        select(
            Weld.id,
            WorkOrder.order_id,
            Weld.reference,
            Wps.number,
            Weld.process,
            WorkOrder.status.not_in(CLOSED),
        )
        .join(WorkOrder, WorkOrder.id == Weld.work_order_id)
        .outerjoin(Wps, Wps.id == Weld.wps_id)
    )
    return Context(
        badges=badges,
        wps=plans,
        jobs=dict(template.job_map or {}),
        welds=[WeldPlan(*row) for row in welds.all()],
    )


def run_day(recorded_at: datetime | str | None) -> date | None:
    if recorded_at is None:
        return None
    if isinstance(recorded_at, str):
        recorded_at = datetime.fromisoformat(recorded_at)
    return workshop_day(recorded_at)


def groups_of(runs: Iterable[tuple[dict[str, Any], date | None]]) -> Groups:
    return Counter(
        (day, c["welder_id"], c["wps_id"], c["weld_id"], c["verdict"], c["failures"])
        for c, day in runs
    )


def groups_sent(sent: Iterable[list[Any]]) -> Groups:
    """The parser's groups of a chunk: [day (ISO 8601) or None, welder_id, wps_id, weld_id,
    verdict, failures, runs]."""
    groups: Groups = Counter()
    for day, welder, wps, weld, verdict, failures, n in sent:
        groups[date.fromisoformat(day) if day else None, welder, wps, weld, verdict, failures] += n
    return groups


async def settle(
    rows: list[tuple[Any, ...]],
    keys: tuple[str, ...],
    groups: Groups,
    gate: QualificationCheck,
    lapsed: Callable[[date], bool],
) -> tuple[list[tuple[Any, ...]], Groups]:
    """A chunk's runs (values in the order of `keys`) and their groups after the API's checks:
    as they are when every welder was qualified for the weld on the day and no run fell on a
    day the machine's validation had lapsed, which the groups tell without reading a run; else
    each run is checked (`QualificationCheck.apply`, `mark_unvalidated`) and counted again
    (as are runs the groups do not add up to)."""
    days = {day for day, _, _, _, verdict, _ in groups if day is not None and verdict is not None}
    counted = sum(groups.values()) == len(rows)  # else the groups are not these runs': recount
    if counted and not any(lapsed(day) for day in days) and await gate.covered(groups):
        return rows, groups
    runs = runs_in([dict(zip(keys, row, strict=True)) for row in rows])
    await gate.apply(runs)
    mark_unvalidated(runs, lapsed)
    return [tuple(columns.values()) for columns, _ in runs], groups_of(runs)


def runs_in(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], date | None]]:
    """A run template's rows to insert, each with its day (the workshop's day of
    `recorded_at`)."""
    return [(row, run_day(row["recorded_at"])) for row in rows]


class QualificationCheck:
    """Whether each run's welder was qualified for its weld on the run's day, with the engine's
    reasons. Answers are kept per (welder, weld, day) for the life of one import or re-check."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.held: dict[int, list[Qualification]] = {}
        self.welds: dict[int, engine.Weld | None] = {}
        self.answers: dict[tuple[int, int, date], tuple[bool, str]] = {}
        self.weighed: dict[tuple[int, date | None], engine.Held | None] = {}

    async def apply(self, runs: Iterable[tuple[dict[str, Any], date | None]]) -> None:
        """Fail each judged run whose welder was not qualified for its weld on its day, with
        the engine's reasons (in place). Whether a run's welder was qualified is then read from
        its columns (`failures`), so nothing is stored for the runs that pass."""
        asked: list[tuple[dict[str, Any], date]] = [
            (columns, day)
            for columns, day in runs
            if day is not None
            and columns["verdict"] is not None
            and columns["welder_id"]
            and columns["weld_id"]
        ]
        keys = {(c["welder_id"], c["weld_id"], day) for c, day in asked}
        if await self._all_qualified(keys):
            return
        for columns, day in asked:
            qualified, why = self.answers[columns["welder_id"], columns["weld_id"], day]
            if qualified:
                continue
            reason = vars(checks.Reason("qualification", None, None, "", why))
            conformance = columns["conformance"] or {}
            if columns["verdict"] != "fail":
                conformance["reasons"] = []
            conformance.setdefault("reasons", []).append(reason)
            columns["conformance"] = conformance
            columns["verdict"] = "fail"
            columns["failures"] = (columns["failures"] or 0) | BITS["qualification"]

    async def covered(self, groups: Iterable[Group]) -> bool:
        """Whether the welder of every judged run of `groups` was qualified for its weld on
        its day (a run without a welder or a weld has nothing to ask)."""
        keys = {
            (welder, weld, day)
            for day, welder, _, weld, verdict, _ in groups
            if day is not None and verdict is not None and welder and weld
        }
        return await self._all_qualified(keys)

    async def _all_qualified(self, keys: set[tuple[int, int, date]]) -> bool:
        new = keys - self.answers.keys()
        if new:
            await self._load({k[0] for k in new}, {k[1] for k in new})
            for key in new:
                self.answers[key] = await self._answer(*key)
        return all(self.answers[k][0] for k in keys)

    async def _load(self, welders: set[int], welds: set[int]) -> None:
        new = sorted(welders - self.held.keys())
        if new:
            self.held.update(await qualifications.qualifications_of(self.session, new))
        for weld_id in sorted(welds - self.welds.keys()):
            weld = await self.session.get(Weld, weld_id)
            try:
                self.welds[weld_id] = (
                    await qualifications.weld_variables(self.session, weld) if weld else None
                )
            except AppError:  # a weld without a process: nothing the engine can weigh
                self.welds[weld_id] = None

    async def _answer(self, welder_id: int, weld_id: int, day: date) -> tuple[bool, str]:
        """The engine's answer, with each qualification weighed once per import (its ranges
        derived once; an ASME IX one again only when its evidence of welding moves)."""
        variables = self.welds.get(weld_id)
        if variables is None:
            return True, ""
        held = self.held.get(welder_id, [])
        welded = await qualifications.evidence_of(self.session, held, day_start(day))
        weighed = [h for q in held if (h := self._weighed(q, welded.get(q.id))) is not None]
        answer = engine.assess(variables, weighed, day)
        if answer.qualified:
            return True, ""
        gaps = [c.reason for c in answer.checks if not c.covered]
        gaps += [lapse.reason for lapse in answer.validity]
        return False, f"welder not qualified for the weld on {day}: " + "; ".join(gaps)

    def _weighed(self, q: Qualification, welded: Evidence | None) -> engine.Held | None:
        key = (q.id, welded.on if welded else None)
        if key not in self.weighed:
            self.weighed[key] = qualifications.held_of(q, welded)
        return self.weighed[key]


def mark_unvalidated(
    runs: Iterable[tuple[dict[str, Any], date | None]], lapsed: Callable[[date], bool]
) -> None:
    """Runs welded on a day the machine's validation (IEC 60974-14) had lapsed: their readings
    prove nothing, so a pass becomes `not_checkable`; a fail or a run not checkable keeps its
    verdict and gets the reason too (app/machines/validation.py, ADR 0031)."""
    for columns, day in runs:
        if day is None or columns["verdict"] is None or not lapsed(day):
            continue
        text = f"the machine's validation (IEC 60974-14) had lapsed on {day}"
        reason = vars(checks.Reason("machine_validation", None, None, "", text))
        conformance = columns["conformance"] or {}
        if columns["verdict"] == "pass":
            columns["verdict"] = "not_checkable"
            conformance["reasons"] = []
        conformance.setdefault("reasons", []).append(reason)
        columns["conformance"] = conformance


def summary(groups: Groups, unresolved: int) -> dict[str, Any]:
    """An import's conformance figures from its runs' groups."""
    counts = dict.fromkeys(("runs", "pass", "fail", "not_checkable", "tacks"), 0)
    for (_, _, _, _, verdict, _), n in groups.items():
        if verdict is None:
            counts["tacks"] += n
        else:
            counts["runs"] += n
            counts[verdict] += n
    return {**counts, "unresolved": unresolved}


def add(total: dict[str, Any] | None, part: dict[str, Any]) -> dict[str, Any]:
    if total is None:
        return dict(part)
    return {k: total.get(k, 0) + part.get(k, 0) for k in part}


ENTRIES: Table = WorkshopEntry.__table__  # type: ignore[assignment]
RECHECK_BATCH = 2000
TOTALLED = ("welder_id", "wps_id", "weld_id", "verdict", "failures")  # what the totals count


async def recheck(
    session: AsyncSession, import_id: int, template: Template, max_errors: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Judge an import's stored runs again, with today's WPS, job map, welds and badges, and
    write the verdicts back; returns the import's summary and its runs' unresolved parts (at
    most `max_errors`). Runs are read and written in batches of RECHECK_BATCH by keyset, in
    the order they were imported (the pass of a run may follow its order)."""
    await totals.lock_import(session, import_id)  # before the runs are read (ADR 0040)
    ctx = await context(session, template)
    judge = Judge(ctx, run_fields(template))
    lapsed = await lapsed_days(session, template.machine_id)
    columns = columns_by_field(template.mapping)
    errors: list[dict[str, Any]] = []
    gate = QualificationCheck(session)
    summed: dict[str, Any] | None = None
    before: totals.Runs = Counter()
    now: totals.Runs = Counter()
    after = 0
    statement = (
        update(ENTRIES)
        .where(ENTRIES.c.id == bindparam("entry_id"))
        .values({c: bindparam(f"new_{c}") for c in RUN_COLUMNS})
    )
    while True:
        rows = (
            await session.execute(
                select(
                    WorkshopEntry.id,
                    WorkshopEntry.row_number,
                    WorkshopEntry.data,
                    WorkshopEntry.recorded_at,
                    WorkshopEntry.machine_id,
                    WorkshopEntry.welder_id,
                    WorkshopEntry.wps_id,
                    WorkshopEntry.weld_id,
                    WorkshopEntry.verdict,
                    WorkshopEntry.failures,
                )
                .where(WorkshopEntry.import_id == import_id, WorkshopEntry.id > after)
                .order_by(WorkshopEntry.id)
                .limit(RECHECK_BATCH)
            )
        ).all()
        if not rows:
            break
        after = rows[-1].id
        judged = [(row, judge.judge(row.data)) for row in rows]
        runs = [(j.columns, run_day(row.recorded_at)) for row, j in judged]
        await gate.apply(runs)
        mark_unvalidated(runs, lapsed)
        unresolved = sum(1 for _, j in judged if j.unresolved)
        for row, j in judged:
            if j.unresolved and len(errors) < max_errors:
                errors += unresolved_errors(row.row_number, j.unresolved, columns)
        summed = add(summed, summary(groups_of(runs), unresolved))
        for row, (new, day) in zip(rows, runs, strict=True):  # old and new, for the totals
            before[(day, row.machine_id, *(getattr(row, c) for c in TOTALLED))] += 1
            now[(day, row.machine_id, *(new[c] for c in TOTALLED))] += 1
        await session.execute(
            statement,
            [
                {"entry_id": row.id, **{f"new_{c}": v for c, v in j.columns.items()}}
                for row, j in judged
            ],
        )
    await totals.changed(session, before, now)
    checked = {**(summed or summary(Counter(), 0)), "checked_at": datetime.now(UTC).isoformat()}
    return checked, errors[:max_errors]
