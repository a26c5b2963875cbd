"""The range a welder's test piece qualifies for, from rule tables kept as data.

Every row names the clause it comes from, so a coordinator or an auditor can hold it against
the standard. Rows marked `verified=False` are commonly quoted but not yet checked against the
standard's text here: the engine applies them and says so in its reasons.

Thickness and diameter rows bound the qualified range by `max(floor, factor · x)` of the test
piece's value x: `s … max(3, 2s)` is `Bound(1, 0) … Bound(2, 3)`, `≥ 3` has no upper bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ISO = "ISO 9606-1"


@dataclass(frozen=True)
class Bound:
    factor: float
    floor: float = 0.0

    def of(self, x: float) -> float:
        return max(self.floor, self.factor * x)


@dataclass(frozen=True)
class RangeRule:
    """For a test value in [low, high) (or (low, high] when `closed_high`), the qualified
    range is lower.of(x) … upper.of(x) (upper None: no upper limit)."""

    clause: str
    variable: str  # "thickness_bw", "thickness_fw", "diameter"
    low: float
    high: float
    lower: Bound
    upper: Bound | None
    text: str  # the row as the standard's table reads
    closed_high: bool = False  # D ≤ 25 is (.., 25]; s < 3 is [.., 3)
    open_low: bool = False
    verified: bool = True

    def applies(self, x: float) -> bool:
        above = x > self.low if self.open_low else x >= self.low
        below = x <= self.high if self.closed_high else x < self.high
        return above and below


INF = math.inf

RANGE_RULES: tuple[RangeRule, ...] = (
    RangeRule(
        f"{ISO} Table 6", "thickness_bw", 0, 3, Bound(1), Bound(2, 3), "s < 3: s … max(3, 2s)"
    ),
    RangeRule(f"{ISO} Table 6", "thickness_bw", 3, 12, Bound(0, 3), Bound(2), "3 ≤ s < 12: 3 … 2s"),
    RangeRule(f"{ISO} Table 6", "thickness_bw", 12, INF, Bound(0, 3), None, "s ≥ 12: ≥ 3"),
    RangeRule(
        f"{ISO} Table 8", "thickness_fw", 0, 3, Bound(1), Bound(2, 3), "t < 3: t … max(3, 2t)"
    ),
    RangeRule(f"{ISO} Table 8", "thickness_fw", 3, INF, Bound(0, 3), None, "t ≥ 3: ≥ 3"),
    RangeRule(
        f"{ISO} Table 7", "diameter", 0, 25, Bound(1), Bound(2), "D ≤ 25: D … 2D", closed_high=True
    ),
    RangeRule(
        f"{ISO} Table 7",
        "diameter",
        25,
        INF,
        Bound(0.5, 25),
        None,
        "D > 25: ≥ max(0.5·D, 25)",
        open_low=True,
    ),
)


@dataclass(frozen=True)
class PositionRule:
    clause: str
    joint: str
    test_position: str
    covers: frozenset[str]
    verified: bool = True


def _positions(clause: str, joint: str, table: dict[str, str]) -> tuple[PositionRule, ...]:
    # A test position always covers itself: the rows below, as the domain notes print them,
    # leave that out for the pipe positions (PH, PJ, H-L045, J-L045).
    return tuple(
        PositionRule(clause, joint, test, frozenset({*covers.split(), test}))
        for tests, covers in table.items()
        for test in tests.split(",")
    )


POSITION_RULES: tuple[PositionRule, ...] = _positions(
    f"{ISO} Table 9",
    "BW",
    {
        "PA": "PA",
        "PC": "PA PC",
        "PE": "PA PC PE",
        "PF": "PA PF",
        "PH": "PA PE PF",
        "PG": "PG",
        "PJ": "PA PE PG",
        "H-L045": "PA PC PE PF",
        "J-L045": "PA PC PE PG",
    },
) + _positions(
    f"{ISO} Table 10",
    "FW",
    {
        "PA": "PA",
        "PB": "PA PB",
        "PC": "PA PB PC",
        "PD,PE": "PA PB PC PD PE",
        "PF": "PA PB PF",
        "PH": "PA PB PC PD PE PF",
        "PG": "PG",
        "PJ": "PA PB PD PE PG",
    },
)
POSITIONS = ("PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH", "PJ", "H-L045", "J-L045")


@dataclass(frozen=True)
class ProcessRule:
    clause: str
    processes: frozenset[str]  # each covers every other of the group


PROCESS_RULES: tuple[ProcessRule, ...] = (
    ProcessRule(f"{ISO} 5.2", frozenset({"135", "138"})),
    ProcessRule(f"{ISO} 5.2", frozenset({"121", "125"})),
    ProcessRule(f"{ISO} 5.2", frozenset({"141", "143", "145"})),
)

# Short-circuit (dip) transfer qualifies the other transfer modes, not the reverse.
TRANSFER_PROCESSES = frozenset({"131", "135", "138"})
ALL_TRANSFER_MODES = frozenset({"short_circuit", "spray", "pulsed", "globular"})
TRANSFER_CLAUSE = f"{ISO} 5.2 (transfer mode)"
JOINT_CLAUSE = f"{ISO} 5.4"
PRODUCT_CLAUSE = f"{ISO} 5.3"
PIPE_COVERS_PLATE_FROM = 25.0
# Commonly quoted, not checked against the standard's text here: plate covers pipe of
# D ≥ 500 mm (or ≥ 75 mm rotated in PA, PB or PC, which this table does not apply).
PLATE_COVERS_PIPE_FROM = 500.0
PLATE_COVERS_PIPE_TEXT = f"{PRODUCT_CLAUSE} (unverified): plate covers pipe of D ≥ 500"


@dataclass(frozen=True)
class TestPiece:
    """What the welder welded at the qualification test (ISO 9606-1 terms)."""

    process: str
    product: str  # "P" plate, "T" pipe
    joint: str  # "BW", "FW"
    test_thickness: float  # deposited thickness s (BW) or plate thickness t (FW), mm
    test_position: str
    test_diameter: float | None = None  # pipe outside diameter D, mm
    material_group: str | None = None
    transfer_mode: str | None = None  # "short_circuit", "spray", "pulsed", "globular"
    fillet_supplement: bool = False  # a BW test with the supplementary fillet test


@dataclass(frozen=True)
class Ranges:
    """What a test piece qualifies for, with the clause of each part."""

    processes: frozenset[str]
    joints: frozenset[str]
    thickness_min: float
    thickness_max: float | None
    diameter_min: float | None  # None: plate only (pipe not covered, or only by an unverified rule)
    diameter_max: float | None
    covers_plate: bool
    positions: frozenset[str]
    material_groups: frozenset[str]
    transfer_modes: frozenset[str] | None  # None: any (process without a transfer-mode rule)
    clauses: dict[str, str] = field(default_factory=dict)
    unverified: frozenset[str] = frozenset()  # variables covered only by an unverified rule


class NoRule(ValueError):
    """The test piece has a value no rule row covers (a position not in the table, a
    negative thickness)."""


def range_rule(variable: str, x: float) -> RangeRule:
    for rule in RANGE_RULES:
        if rule.variable == variable and rule.applies(x):
            return rule
    raise NoRule(f"no {ISO} rule for {variable} = {x:g}")


def position_rule(joint: str, position: str) -> PositionRule:
    for rule in POSITION_RULES:
        if rule.joint == joint and rule.test_position == position:
            return rule
    raise NoRule(f"no {ISO} rule for a {joint} test in position {position}")


def equivalent_processes(process: str) -> frozenset[str]:
    for rule in PROCESS_RULES:
        if process in rule.processes:
            return rule.processes
    return frozenset({process})


def derive(piece: TestPiece) -> Ranges:
    """The ranges an ISO 9606-1 test piece qualifies for."""
    clauses: dict[str, str] = {}
    thickness = range_rule(
        "thickness_bw" if piece.joint == "BW" else "thickness_fw", piece.test_thickness
    )
    clauses["thickness"] = f"{thickness.clause}: {thickness.text}"
    positions = position_rule(piece.joint, piece.test_position)
    clauses["position"] = (
        f"{positions.clause}: {piece.test_position} covers {' '.join(sorted(positions.covers))}"
    )

    diameter_min = diameter_max = None
    covers_plate = True
    if piece.product == "T":
        if piece.test_diameter is None:
            raise NoRule("a pipe test piece needs its outside diameter")
        rule = range_rule("diameter", piece.test_diameter)
        diameter_min = rule.lower.of(piece.test_diameter)
        diameter_max = rule.upper.of(piece.test_diameter) if rule.upper else None
        clauses["diameter"] = f"{rule.clause}: {rule.text}"
        covers_plate = piece.test_diameter >= PIPE_COVERS_PLATE_FROM
        clauses["product"] = (
            f"{PRODUCT_CLAUSE}: pipe D ≥ {PIPE_COVERS_PLATE_FROM:g} covers plate"
            if covers_plate
            else f"{PRODUCT_CLAUSE}: pipe D < {PIPE_COVERS_PLATE_FROM:g} covers pipe only"
        )
    else:
        diameter_min = PLATE_COVERS_PIPE_FROM
        clauses["diameter"] = PLATE_COVERS_PIPE_TEXT

    joints = {piece.joint}
    if piece.joint == "BW" and piece.fillet_supplement:
        joints.add("FW")
    clauses["joint"] = (
        f"{JOINT_CLAUSE}: BW with the supplementary fillet test covers BW and FW"
        if len(joints) == 2
        else f"{JOINT_CLAUSE}: {piece.joint} covers {piece.joint} only"
    )
    processes = equivalent_processes(piece.process)
    clauses["process"] = f"{ISO} 5.2: {piece.process} covers {' '.join(sorted(processes))}"

    transfer: frozenset[str] | None = None
    if piece.process in TRANSFER_PROCESSES and piece.transfer_mode:
        transfer = (
            ALL_TRANSFER_MODES
            if piece.transfer_mode == "short_circuit"
            else frozenset({piece.transfer_mode})
        )
        clauses["transfer_mode"] = (
            f"{TRANSFER_CLAUSE}: short-circuit covers the others, not the reverse"
        )

    return Ranges(
        processes=processes,
        joints=frozenset(joints),
        thickness_min=thickness.lower.of(piece.test_thickness),
        thickness_max=thickness.upper.of(piece.test_thickness) if thickness.upper else None,
        diameter_min=diameter_min,
        diameter_max=diameter_max,
        covers_plate=covers_plate,
        positions=positions.covers,
        material_groups=frozenset({piece.material_group}) if piece.material_group else frozenset(),
        transfer_modes=transfer,
        clauses=clauses,
        unverified=frozenset({"diameter"}) if piece.product == "P" else frozenset(),
    )
