"""Tie an imported run to its welder, WPS, weld and pass, and judge its parameters.

Pure functions over a `Context` (who has which badge, the approved WPS with their passes, the
template's job map, the welds): they run in the parser process beside the mapping, so the
checks cost the API nothing (ADR 0028), and in the API for a re-check of stored runs.

A template is a run template when it maps a column that ties a run to the work
(`welder_badge`, `wps_number`, `job_number`, `weld_reference`). For each of its rows `judge`
gives the entry's run columns (`welder_id`, `wps_id`, `weld_id`, `pass_seq`, `process`,
`verdict`, `heat_input`, `failures`, `conformance`) and what could not be resolved, per field
("badge 0457 unknown"): reported with the row, never dropped. The qualification of the welder
for the weld on the run's day needs the database: the API adds it (app/conformance/service.py).

- WPS: the `wps_number` column, else the template's job map of `job_number`, else the weld's
  WPS; always the approved revision of that number.
- Weld: `weld_reference` within the work order of the `order_id` column; without one, a
  reference that is unique among the welds of work orders not closed.
- Pass: the `pass_seq` column; else the only pass of a one-pass WPS; else by order, the nth run
  of a weld in the file being its nth pass.
- A tack (shorter than the template's minimum arc time) is resolved but not judged (verdict
  None) and reports nothing unresolved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from app.conformance import checks

TIES = ("welder_badge", "wps_number", "job_number", "weld_reference")
# One bit per parameter a run can fail on: the dashboard counts them without reading JSON.
BITS: dict[str, int] = {
    "current": 1,
    "voltage": 2,
    "wire_feed": 4,
    "travel_speed": 8,
    "heat_input": 16,
    "qualification": 32,
    "wps": 64,
    "process": 128,
}
# What a run measured, in checks.Run's order (after its process).
MEASURED = (
    "current_a",
    "voltage_v",
    "wire_feed_mm_s",
    "travel_speed_mm_s",
    "arc_time_s",
    "length_mm",
    "energy_j",
)
RUN_COLUMNS = (
    "welder_id",
    "wps_id",
    "weld_id",
    "pass_seq",
    "process",
    "verdict",
    "heat_input",
    "failures",
    "conformance",
)


@dataclass(frozen=True)
class WpsPlan:
    id: int
    number: str
    revision: int
    process: str
    passes: dict[int, checks.PassRanges]

    @property
    def label(self) -> str:
        return f"WPS {self.number} rev {self.revision}"

    @cached_property
    def order(self) -> list[int]:
        return sorted(self.passes)


@dataclass(frozen=True)
class WeldPlan:
    id: int
    order_id: str
    reference: str
    wps_number: str | None
    process: str | None
    open: bool  # its work order is not completed or cancelled


def _key(text: Any) -> str:
    return str(text).strip().casefold()


def _badge_key(text: Any) -> str:
    """Badge readers and Excel drop leading zeros (a numeric cell 0457 reads 457)."""
    return _key(text).lstrip("0") or "0"


@dataclass
class Context:
    """What resolution needs, as plain JSON for the parser job."""

    badges: dict[str, int] = field(default_factory=dict)  # employee badge -> employee id
    wps: list[WpsPlan] = field(default_factory=list)  # the approved revisions
    jobs: dict[str, str] = field(default_factory=dict)  # job number -> WPS number
    welds: list[WeldPlan] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._badges = {_badge_key(b): i for b, i in self.badges.items()}
        self._wps = {_key(w.number): w for w in self.wps}
        self._jobs = {_key(j): n for j, n in self.jobs.items()}
        self._welds: dict[tuple[str, str], WeldPlan] = {}
        self._references: dict[str, list[WeldPlan]] = {}
        for weld in self.welds:
            self._welds[_key(weld.order_id), _key(weld.reference)] = weld
            self._references.setdefault(_key(weld.reference), []).append(weld)

    def encode(self) -> dict[str, Any]:
        return {
            "badges": self.badges,
            "wps": [
                [w.id, w.number, w.revision, w.process, [_ranges(r) for r in w.passes.values()]]
                for w in self.wps
            ],
            "jobs": self.jobs,
            "welds": [
                [w.id, w.order_id, w.reference, w.wps_number, w.process, w.open] for w in self.welds
            ],
        }

    @classmethod
    def decode(cls, data: dict[str, Any]) -> Context:
        wps = []
        for id_, number, revision, process, passes in data["wps"]:
            ranges = [_ranges_from(f"WPS {number} rev {revision}", p) for p in passes]
            wps.append(WpsPlan(id_, number, revision, process, {r.seq: r for r in ranges}))
        return cls(
            badges=data["badges"],
            wps=wps,
            jobs=data["jobs"],
            welds=[WeldPlan(*w) for w in data["welds"]],
        )

    def welder(self, badge: Any) -> int | None:
        return self._badges.get(_badge_key(badge))

    def wps_of(self, number: Any) -> WpsPlan | None:
        return self._wps.get(_key(number))

    def job(self, number: Any) -> str | None:
        return self._jobs.get(_key(number))

    def weld(self, reference: Any, order_id: Any = None) -> WeldPlan | str:
        """The weld, or why none: unknown or ambiguous."""
        if order_id is not None:
            found = self._welds.get((_key(order_id), _key(reference)))
            return found or f"weld {reference} unknown in work order {order_id}"
        candidates = self._references.get(_key(reference), [])
        if len(candidates) > 1:
            candidates = [w for w in candidates if w.open]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            return f"weld {reference} unknown"
        return f"weld {reference} is in {len(candidates)} open work orders (map order_id)"


_RANGE_NAMES = ("current", "voltage", "wire_feed", "travel_speed", "heat_input")


def _ranges(r: checks.PassRanges) -> list[Any]:
    return [r.seq, *(list(getattr(r, name)) for name in _RANGE_NAMES)]


def _ranges_from(label: str, data: list[Any]) -> checks.PassRanges:
    seq, *limits = data
    values = {name: (low, high) for name, (low, high) in zip(_RANGE_NAMES, limits, strict=True)}
    return checks.PassRanges(wps=label, seq=seq, **values)


_UNKNOWN: Any = object()  # not looked at yet


def is_run_template(fields: Iterable[str]) -> bool:
    return any(f in TIES for f in fields)


# A run's ties: welder id, weld, WPS, process, what could not be resolved, what contradicts
# the plan (a WPS other than the weld's, a process other than the WPS's).
Tie = tuple[
    int | None,
    WeldPlan | None,
    WpsPlan | None,
    str | None,
    list[tuple[str, str]],
    list[checks.Reason],
]


@dataclass
class Judged:
    """A run's columns, and its unresolved parts as (field, message)."""

    columns: dict[str, Any]
    unresolved: list[tuple[str, str]]


class Judge:
    """Judges the runs of one file (or one stored import) in row order; it counts the runs
    of each weld, so that a run without a pass column is its weld's next pass."""

    def __init__(self, context: Context, fields: Iterable[str]) -> None:
        self.context = context
        self.fields = set(fields)
        self.runs_of_weld: dict[int, int] = {}
        self.ties: dict[tuple[Any, ...], Tie] = {}
        # Per ties: the columns a clean run starts with and its check, when every run of those
        # ties without a pass column has the same pass (one-pass WPS) and nothing unresolved
        # or against the plan; else None.
        self.quick: dict[tuple[Any, ...], tuple[list[Any], Callable[..., Any]] | None] = {}
        self.cleans: dict[tuple[str | None, int, int], Callable[..., Any]] = {}

    def judge(self, data: dict[str, Any]) -> Judged:
        values, problems = self.values(data)
        return Judged(dict(zip(RUN_COLUMNS, values, strict=True)), problems)

    def values(self, data: dict[str, Any]) -> tuple[list[Any], list[tuple[str, str]]]:
        """The run's columns in RUN_COLUMNS order, and its unresolved parts: what the parser
        sends (a list, no dict to build per run)."""
        get = data.get
        key = (
            get("welder_badge"),
            get("wps_number"),
            get("job_number"),
            get("weld_reference"),
            get("order_id"),
            get("process"),
        )
        quick = self.quick.get(key, _UNKNOWN)
        if quick is _UNKNOWN:
            quick = self.quick[key] = self._quick(key, data)
        if quick is not None and get("pass_seq") is None and not get("tack"):
            start, clean = quick
            heat = clean(
                get("current_a"),
                get("voltage_v"),
                get("wire_feed_mm_s"),
                get("travel_speed_mm_s"),
                get("arc_time_s"),
                get("length_mm"),
                get("energy_j"),
            )
            if heat is not checks.NOT_CLEAN:
                return [*start, "pass", heat, 0, None], []
        return self._values(key, data)

    def _tie_of(self, key: tuple[Any, ...], data: dict[str, Any]) -> Tie:
        tie = self.ties.get(key)
        if tie is None:
            tie = self.ties[key] = self._tie(data)
        return tie

    def _clean(self, process: str | None, wps: WpsPlan, ranges: checks.PassRanges) -> Any:
        """The quick check of a pass for a process, built once per judge."""
        key = (process, wps.id, ranges.seq)
        clean = self.cleans.get(key)
        if clean is None:
            clean = self.cleans[key] = checks.clean_check(process or "", ranges)
        return clean

    def _quick(
        self, key: tuple[Any, ...], data: dict[str, Any]
    ) -> tuple[list[Any], Callable[..., Any]] | None:
        tie = self._tie_of(key, data)
        welder_id, weld, wps, process, problems, planned = tie
        if wps is None or len(wps.passes) != 1 or problems or planned:
            return None
        (ranges,) = wps.passes.values()
        start = [welder_id, wps.id, weld.id if weld else None, ranges.seq, process]
        return start, self._clean(process, wps, ranges)

    def _values(
        self, key: tuple[Any, ...], data: dict[str, Any]
    ) -> tuple[list[Any], list[tuple[str, str]]]:
        """`values` of a run the quick path does not settle."""
        get = data.get
        tie = self._tie_of(key, data)
        welder_id, weld, wps, process, problems, planned = tie
        tack = bool(get("tack"))

        ranges = None
        if wps is not None:
            ranges, problem = self._pass(wps, weld, get("pass_seq"), tack)
            if problem:
                problems = [*problems, problem]  # the tie's list is shared: never changed
        ids = (welder_id, wps.id if wps else None, weld.id if weld else None)
        seq = ranges.seq if ranges else None
        if tack:
            return [*ids, seq, process, None, None, None, None], []
        measured = [get(name) for name in MEASURED]
        if wps is not None and ranges is not None and not problems and not planned:
            heat = self._clean(process, wps, ranges)(*measured)
            if heat is not checks.NOT_CLEAN:
                return [*ids, seq, process, "pass", heat, 0, None], problems
        judged = self._check(measured, wps, ranges, process, problems, planned)
        return [*ids, seq, process, *judged], problems

    def _tie(self, data: dict[str, Any]) -> Tie:
        """Welder, weld, WPS and process of a run, and what of them could not be resolved: the
        same for every run with the same ties (kept per file in `ties`)."""
        ctx, mapped = self.context, self.fields
        problems: list[tuple[str, str]] = []

        welder_id = None
        if "welder_badge" in mapped:
            badge = data.get("welder_badge")
            welder_id = ctx.welder(badge) if badge is not None else None
            if welder_id is None:
                problems.append(
                    ("welder_badge", f"badge {badge} unknown" if badge else "no welder badge")
                )

        weld = None
        if "weld_reference" in mapped:
            reference = data.get("weld_reference")
            if reference is None:
                problems.append(("weld_reference", "no weld reference"))
            else:
                found = ctx.weld(reference, data.get("order_id"))
                if isinstance(found, str):
                    problems.append(("weld_reference", found))
                else:
                    weld = found

        wps, wps_number, source = None, None, ""
        if data.get("wps_number") is not None:
            wps_number, source = data["wps_number"], "wps_number"
        elif "job_number" in mapped and data.get("job_number") is not None:
            wps_number = ctx.job(data["job_number"])
            source = "job_number"
            if wps_number is None:
                problems.append(
                    ("job_number", f"job {data['job_number']} is not in the template's job map")
                )
        elif weld is not None and weld.wps_number is not None:
            wps_number, source = weld.wps_number, "weld_reference"
        elif "wps_number" in mapped or "job_number" in mapped:
            problems.append(("wps_number", "no WPS number or job number"))
        if wps_number is not None:
            wps = ctx.wps_of(wps_number)
            if wps is None:
                problems.append((source, f"WPS {wps_number} has no approved revision"))

        process = data.get("process") or (wps.process if wps else None)
        if process is None and weld is not None:
            process = weld.process
        process = str(process) if process is not None else None
        # What contradicts the plan fails the run whatever its parameters.
        planned: list[checks.Reason] = []
        if wps and weld and weld.wps_number and _key(weld.wps_number) != _key(wps.number):
            text = f"run under {wps.label}; weld {weld.reference} is planned under WPS "
            planned.append(checks.Reason("wps", None, None, "", text + weld.wps_number))
        if wps is not None and process is not None and process != wps.process:
            text = f"process {process} is not {wps.label}'s {wps.process}"
            planned.append(checks.Reason("process", None, None, "", text))
        return welder_id, weld, wps, process, problems, planned

    def _pass(
        self, wps: WpsPlan, weld: WeldPlan | None, seq: Any, tack: bool
    ) -> tuple[checks.PassRanges | None, tuple[str, str] | None]:
        if seq is not None:
            if float(seq) != int(seq):
                return None, ("pass_seq", f"pass {seq} is not a whole number")
            found = wps.passes.get(int(seq))
            if found is None:
                return None, ("pass_seq", f"pass {seq} not in {wps.label} ({_seqs(wps)})")
            return found, None
        if len(wps.passes) == 1:
            return next(iter(wps.passes.values())), None
        if weld is None or tack:
            return None, None if tack else (
                "pass_seq",
                f"pass unknown: {wps.label} has passes "
                f"{_seqs(wps)}; map pass_seq or weld_reference",
            )
        nth = self.runs_of_weld.get(weld.id, 0) + 1
        self.runs_of_weld[weld.id] = nth
        ordered = wps.order
        if nth > len(ordered):
            return None, (
                "pass_seq",
                f"run {nth} of weld {weld.reference} but {wps.label} has {len(ordered)} passes",
            )
        return wps.passes[ordered[nth - 1]], None

    @staticmethod
    def _check(
        measured: list[Any],
        wps: WpsPlan | None,
        ranges: checks.PassRanges | None,
        process: str | None,
        problems: list[tuple[str, str]],
        planned: list[checks.Reason],
    ) -> tuple[str, float | None, int, dict[str, Any] | None]:
        """verdict, heat_input, failures and conformance of a run that is not a tack."""
        run = checks.Run(process or "", *measured)
        heat = checks.heat_input(run)
        reasons: list[checks.Reason] = []
        if ranges is None:
            verdict: checks.Verdict = "not_checkable"
            missing = "no WPS" if wps is None else f"no pass of {wps.label}"
            reasons.append(checks.Reason("wps", None, None, "", f"{missing}: nothing to check"))
        else:
            result = checks.check(run, ranges, heat)
            verdict, reasons = result.verdict, result.reasons
        if planned:
            reasons = ([] if verdict != "fail" else reasons) + planned
            verdict = "fail"
        failures = 0
        # Only what the columns and the data cannot tell: most runs store no JSON at all.
        conformance: dict[str, Any] | None = None
        if reasons or problems:
            if verdict == "fail":
                for reason in reasons:
                    failures |= BITS.get(reason.parameter, 0)
            conformance = {}
            if reasons:
                conformance["reasons"] = [vars(r) for r in reasons]
            if problems:
                conformance["unresolved"] = [message for _, message in problems]
        return verdict, round(heat.heat_input, 6) if heat else None, failures, conformance


def _seqs(wps: WpsPlan) -> str:
    return ", ".join(str(s) for s in sorted(wps.passes)) or "none"


def columns_by_field(mapping: list[dict[str, Any]]) -> dict[str, str]:
    """A template mapping's column per field: the column an unresolved part is reported in."""
    return {spec["field"]: spec["column"] for spec in mapping}


def unresolved_errors(
    row: int, unresolved: list[tuple[str, str]], columns_by_field: dict[str, str]
) -> list[dict[str, Any]]:
    """A run's unresolved parts as row errors of its import, of kind `unresolved`: unlike an
    invalid row, the run is imported (when `on_error` is skip), unresolved parts left empty."""
    return [
        {
            "row": row,
            "column": columns_by_field.get(field, ""),
            "field": field,
            "message": message,
            "kind": "unresolved",
        }
        for field, message in unresolved
    ]
