"""May this welder do this weld on this day, and why not: the answer per variable.

A welder is qualified for a weld when ONE qualification, valid on the day, covers every variable
of the weld (process, joint, thickness, diameter, position, material group, transfer mode).
The answer carries a check per variable from the qualification that comes closest (the one
that covers, or else the one with the fewest gaps), and why each other qualification failed
its validity, so a coordinator sees what to fix.

Validity on a day (ISO 9606-1 §9, ASME IX QW-322.1):
- not before it was issued, not after `expires_on`;
- ISO 9606-1: confirmed by the coordinator at most 6 months earlier (the issue date counts as
  the first confirmation);
- ASME IX: welded with the process at most 6 months earlier (the process clock; the issue date
  starts it).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from app.qualifications.rules import ALL_TRANSFER_MODES, Ranges, TestPiece

CONTINUITY_MONTHS = 6


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Weld:
    """The variables of a weld (a joint of a work order, or given explicitly)."""

    process: str
    joint: str
    thickness: float
    position: str
    diameter: float | None = None  # pipe outside diameter; None for plate
    material_group: str | None = None
    transfer_mode: str | None = None


@dataclass(frozen=True)
class Dates:
    """What decides whether a qualification is valid on a day."""

    id: int
    certificate: str
    standard: str
    process: str
    issued_on: date
    expires_on: date | None = None
    last_confirmed_on: date | None = None
    last_welded_on: date | None = None  # the process clock (ASME IX), from welding evidence


@dataclass(frozen=True)
class Held:
    """A qualification as the engine weighs it: its dates, its test piece and what it covers."""

    dates: Dates
    piece: TestPiece
    ranges: Ranges

    @property
    def id(self) -> int:
        return self.dates.id

    @property
    def certificate(self) -> str:
        return self.dates.certificate


@dataclass(frozen=True)
class Check:
    variable: str
    value: str | float | None
    covered: bool
    range: str
    qualification_id: int | None
    reason: str


@dataclass(frozen=True)
class Lapse:
    qualification_id: int
    certificate: str
    kind: str  # "not_yet_issued", "expired", "confirmation_due", "process_clock"
    since: date
    reason: str


@dataclass
class Answer:
    qualified: bool
    checks: list[Check]
    validity: list[Lapse] = field(default_factory=list)
    qualification_id: int | None = None  # the one that covers (or comes closest)


def lapses(held: Dates, on: date) -> list[Lapse]:
    found: list[Lapse] = []

    def lapse(kind: str, since: date, reason: str) -> None:
        found.append(Lapse(held.id, held.certificate, kind, since, reason))

    if on < held.issued_on:
        lapse("not_yet_issued", held.issued_on, f"cert {held.certificate} issued {held.issued_on}")
    if held.expires_on is not None and on > held.expires_on:
        lapse("expired", held.expires_on, f"cert {held.certificate} expired {held.expires_on}")
    if held.standard == "ASME IX":
        last = max(held.issued_on, held.last_welded_on or held.issued_on)
        end = add_months(last, CONTINUITY_MONTHS)
        if on > end:
            lapse(
                "process_clock",
                end,
                f"cert {held.certificate}: no welding with {held.process} since {last} "
                f"(QW-322.1: 6 months)",
            )
    else:
        last = max(held.issued_on, held.last_confirmed_on or held.issued_on)
        end = add_months(last, CONTINUITY_MONTHS)
        if on > end:
            lapse(
                "confirmation_due",
                end,
                f"cert {held.certificate}: not confirmed since {last} (ISO 9606-1 §9: 6 months)",
            )
    return found


def _span(low: float | None, high: float | None) -> str:
    if low is None:
        return "none"
    return f"{low:g}-{high:g} mm" if high is not None else f"≥ {low:g} mm"


def checks(weld: Weld, held: Held) -> list[Check]:
    r, cert = held.ranges, held.certificate
    piece = held.piece
    out: list[Check] = []

    def add(variable: str, value: str | float | None, covered: bool, span: str, why: str) -> None:
        reason = "covered" if covered else why
        if covered and variable in r.unverified and value is not None:
            reason = f"covered by an unverified rule: {r.clauses.get(variable, '')}"
        out.append(Check(variable, value, covered, span, held.id, reason))

    def member(variable: str, value: str, allowed: frozenset[str], note: str = "") -> None:
        listed = " ".join(sorted(allowed))
        why = f"{variable.replace('_', ' ')} {value} not in {listed} (cert {cert}{note})"
        add(variable, value, value in allowed, listed, why)

    member("process", weld.process, r.processes)
    member("joint", weld.joint, r.joints, f", {piece.joint} test")
    t = weld.thickness
    high = r.thickness_max
    thick_ok = t >= r.thickness_min and (high is None or t <= high)
    symbol = "s" if piece.joint == "BW" else "t"
    limit = f"< {r.thickness_min:g}" if t < r.thickness_min else f"> {high or 0:g}"
    add(
        "thickness",
        t,
        thick_ok,
        _span(r.thickness_min, high),
        f"thickness {t:g} {limit} (cert {cert}, {symbol} = {piece.test_thickness:g})",
    )
    if weld.diameter is None:
        add(
            "diameter",
            None,
            r.covers_plate,
            "plate" if r.covers_plate else "pipe only",
            f"plate not covered (cert {cert}: pipe D = {piece.test_diameter or 0:g} < 25)",
        )
    else:
        d = weld.diameter
        low, dhigh = r.diameter_min, r.diameter_max
        ok = low is not None and d >= low and (dhigh is None or d <= dhigh)
        add(
            "diameter",
            d,
            ok,
            _span(low, dhigh),
            f"diameter {d:g} outside {_span(low, dhigh)} (cert {cert})",
        )
    member("position", weld.position, r.positions)
    # A weld's group must be the certificate's; a certificate without one covers no group.
    # (A weld without a group has nothing to check here: the guide says to record it.)
    if weld.material_group is not None:
        if r.material_groups:
            member("material_group", weld.material_group, r.material_groups)
        else:
            why = f"material group {weld.material_group}: none recorded on cert {cert}"
            add("material_group", weld.material_group, False, "", why)
    if r.transfer_modes is not None and r.transfer_modes != ALL_TRANSFER_MODES:
        if weld.transfer_mode is None:
            modes = " ".join(sorted(r.transfer_modes))
            why = f"transfer mode of the weld not recorded; cert {cert} covers {modes} only"
            add("transfer_mode", None, False, modes, why)
        else:
            member("transfer_mode", weld.transfer_mode, r.transfer_modes)
    return out


def assess(weld: Weld, held: Iterable[Held], on: date) -> Answer:
    """The engine's answer for one welder: qualified or not, with a check per variable."""
    best: tuple[tuple[int, int], Answer] | None = None
    for qualification in held:
        found = checks(weld, qualification)
        lapsed = lapses(qualification.dates, on)
        gaps = sum(not c.covered for c in found)
        answer = Answer(
            qualified=gaps == 0 and not lapsed,
            checks=found,
            validity=lapsed,
            qualification_id=qualification.id,
        )
        score = (gaps, len(lapsed))
        if best is None or score < best[0]:
            best = (score, answer)
    if best is None:
        return Answer(
            qualified=False,
            checks=[Check("qualification", None, False, "", None, "no qualification on record")],
        )
    return best[1]
