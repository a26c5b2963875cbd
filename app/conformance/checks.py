"""One weld run against its WPS pass: heat input, parameter ranges, a verdict with its reasons.

Heat input (EN 1011-1, ISO/TR 17671-1): arc energy E = U · I / v / 1000 [kJ/mm] with U in V,
I in A and v in mm/s; heat input Q = k · E, with the thermal efficiency k of the process from
`EFFICIENCY` (data, not branches). Travel speed is rarely measured: v = seam length / arc time.
When the machine reports the energy of a run (waveform-controlled sources, ASME IX QW-409.1),
E = energy / length, and Q = k · E the same way. A run without a length or a travel speed has
no heat input: `not_checkable`, never `pass`.

Units in and out: mm, s, A, V, mm/s, J, kJ/mm. What a machine exports in other units is
converted on import (`UNITS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["pass", "fail", "not_checkable"]


@dataclass(frozen=True)
class Efficiency:
    process: str
    k: float
    verified: bool = True
    source: str = "EN 1011-1 Table 1"


EFFICIENCY: dict[str, Efficiency] = {
    e.process: e
    for e in (
        Efficiency("121", 1.0),
        Efficiency("111", 0.8),
        Efficiency("131", 0.8),
        Efficiency("135", 0.8),
        Efficiency("136", 0.8),
        Efficiency("138", 0.8),
        Efficiency("141", 0.6),
        Efficiency("15", 0.6),
        # Usually taken as 0.8 too, but not found in the table: shown as unverified.
        Efficiency("114", 0.8, verified=False, source="customary, not in EN 1011-1 Table 1"),
    )
}

# Conversions to this module's units: (unit as exported, factor to multiply by).
UNITS: dict[str, dict[str, float]] = {
    "wire_feed_mm_s": {"mm/s": 1.0, "m/min": 1000 / 60, "in/min": 25.4 / 60, "cm/min": 10 / 60},
    "travel_speed_mm_s": {"mm/s": 1.0, "mm/min": 1 / 60, "cm/min": 10 / 60, "m/min": 1000 / 60},
    "energy_j": {"J": 1.0, "kJ": 1000.0, "Wh": 3600.0, "kWh": 3_600_000.0},
    "arc_time_s": {"s": 1.0, "min": 60.0, "ms": 0.001},
    "length_mm": {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4},
    "current_a": {"A": 1.0},
    "voltage_v": {"V": 1.0},
}


def convert(field_name: str, value: float, unit: str) -> float:
    """`value` in `unit` as this module's unit for `field_name` (KeyError: unknown unit)."""
    return value * UNITS[field_name][unit]


@dataclass(slots=True)
class Run:
    """What a machine's export says about one run, in this module's units."""

    process: str
    current_a: float | None = None
    voltage_v: float | None = None
    wire_feed_mm_s: float | None = None
    travel_speed_mm_s: float | None = None
    arc_time_s: float | None = None
    length_mm: float | None = None
    energy_j: float | None = None


PARAMETERS: tuple[tuple[str, str, str], ...] = (
    # (name in PassRanges, label, unit)
    ("current", "current", "A"),
    ("voltage", "voltage", "V"),
    ("wire_feed", "wire feed", "mm/s"),
    ("travel_speed", "travel speed", "mm/s"),
    ("heat_input", "heat input", "kJ/mm"),
)


@dataclass(frozen=True)
class PassRanges:
    """The ranges of one WPS pass; None: that end is open."""

    wps: str  # "WPS-101 rev 2", for the reasons
    seq: int
    current: tuple[float | None, float | None] = (None, None)
    voltage: tuple[float | None, float | None] = (None, None)
    wire_feed: tuple[float | None, float | None] = (None, None)
    travel_speed: tuple[float | None, float | None] = (None, None)
    heat_input: tuple[float | None, float | None] = (None, None)
    # The parameters that have a range, each (position in PARAMETERS, name, label, unit, low,
    # high): what `check` walks, worked out once per pass rather than once per run.
    limits: tuple[tuple[int, str, str, str, float | None, float | None], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        limits = tuple(
            (i, name, label, unit, *getattr(self, name))
            for i, (name, label, unit) in enumerate(PARAMETERS)
            if getattr(self, name) != (None, None)
        )
        object.__setattr__(self, "limits", limits)


@dataclass(frozen=True)
class Reason:
    parameter: str
    value: float | None
    limit: float | None
    unit: str
    text: str


@dataclass(slots=True)
class HeatInput:
    arc_energy: float  # E, kJ/mm
    heat_input: float  # Q = k · E, kJ/mm
    k: float
    method: Literal["U*I/v", "energy/length"]
    travel_speed_mm_s: float | None


@dataclass(slots=True)
class Result:
    verdict: Verdict
    heat_input: HeatInput | None
    reasons: list[Reason] = field(default_factory=list)  # failures, or what was missing


def travel_speed(run: Run) -> float | None:
    if run.travel_speed_mm_s:
        return run.travel_speed_mm_s
    if run.length_mm and run.arc_time_s:
        return run.length_mm / run.arc_time_s
    return None


def heat_input(run: Run) -> HeatInput | None:
    """Q of the run, or None when it cannot be computed (no k, no speed or length)."""
    efficiency = EFFICIENCY.get(run.process)
    if efficiency is None:
        return None
    speed = travel_speed(run)
    if run.energy_j and run.length_mm:
        energy = run.energy_j / run.length_mm / 1000
        return HeatInput(energy, efficiency.k * energy, efficiency.k, "energy/length", speed)
    if run.voltage_v and run.current_a and speed:
        energy = run.voltage_v * run.current_a / speed / 1000
        return HeatInput(energy, efficiency.k * energy, efficiency.k, "U*I/v", speed)
    return None


_UNSET = object()
NOT_CLEAN = object()


def clean_check(process: str, ranges: PassRanges) -> Callable[..., float | object | None]:
    """A check of runs of `process` against `ranges` for the common case: called with what a
    run measured (in `Run`'s order after its process), it gives the rounded heat input of a run
    that passes every range, measured in all, and `NOT_CLEAN` for any other run, whose verdict
    and reasons `check` works out. The same arithmetic as `heat_input` and `check`, without
    their objects, with the efficiency and the limits looked up once per pass: most runs pass,
    and this is their whole cost (ADR 0028)."""
    efficiency = EFFICIENCY.get(process)
    k = efficiency.k if efficiency is not None else None
    limits = tuple((i, low, high) for i, _, _, _, low, high in ranges.limits)

    def clean(
        current_a: float | None,
        voltage_v: float | None,
        wire_feed_mm_s: float | None,
        travel_speed_mm_s: float | None,
        arc_time_s: float | None,
        length_mm: float | None,
        energy_j: float | None,
    ) -> float | object | None:
        speed = travel_speed_mm_s or (length_mm / arc_time_s if length_mm and arc_time_s else None)
        heat = None
        if k is not None:
            if energy_j and length_mm:
                heat = k * (energy_j / length_mm / 1000)
            elif voltage_v and current_a and speed:
                heat = k * (voltage_v * current_a / speed / 1000)
        values = (current_a, voltage_v, wire_feed_mm_s, speed, heat)
        for i, low, high in limits:
            value = values[i]
            if (
                value is None
                or (high is not None and value > high)
                or (low is not None and value < low)
            ):
                return NOT_CLEAN
        return None if heat is None else round(heat, 6)

    return clean


def check(run: Run, ranges: PassRanges, heat: HeatInput | object | None = _UNSET) -> Result:
    """`pass` when every parameter with a range is measured and inside it; `fail` with every
    parameter outside (value, limit, unit); else `not_checkable` with what was missing.
    `heat`: the run's heat_input(), when the caller has it already."""
    if heat is _UNSET:
        heat = heat_input(run)
    assert heat is None or isinstance(heat, HeatInput)
    measured = (
        run.current_a,
        run.voltage_v,
        run.wire_feed_mm_s,
        heat.travel_speed_mm_s if heat else travel_speed(run),
        heat.heat_input if heat else None,
    )
    failed: list[Reason] = []
    missing: list[Reason] = []
    for i, name, label, unit, low, high in ranges.limits:
        value = measured[i]
        if value is None:
            text = f"{label} not measured ({ranges.wps}, pass {ranges.seq})"
            missing.append(Reason(name, None, None, unit, text))
        elif high is not None and value > high:
            text = f"{label} {value:.4g} {unit} > {high:g} {unit} ({ranges.wps}, pass {ranges.seq})"
            failed.append(Reason(name, value, high, unit, text))
        elif low is not None and value < low:
            text = f"{label} {value:.4g} {unit} < {low:g} {unit} ({ranges.wps}, pass {ranges.seq})"
            failed.append(Reason(name, value, low, unit, text))
    if failed:
        return Result("fail", heat, failed)
    if missing:
        return Result("not_checkable", heat, missing)
    return Result("pass", heat, [])
