"""ISO 9606-1 ranges and the engine, against the worked examples and every table row."""

from __future__ import annotations

from datetime import date

import pytest

from app.qualifications import rules
from app.qualifications.engine import Dates, Held, Weld, add_months, assess, lapses
from app.qualifications.rules import NoRule, derive

ON = date(2026, 11, 30)


def piece(**over: object) -> rules.TestPiece:
    values: dict[str, object] = {
        "process": "135",
        "product": "P",
        "joint": "BW",
        "test_thickness": 8,
        "test_position": "PF",
    }
    values.update(over)
    return rules.TestPiece(**values)  # type: ignore[arg-type]


def held(test: rules.TestPiece, **over: object) -> Held:
    values: dict[str, object] = {
        "id": 1,
        "certificate": "1234",
        "standard": "ISO 9606-1",
        "process": test.process,
        "issued_on": date(2026, 1, 10),
        "last_confirmed_on": date(2026, 9, 1),
    }
    values.update(over)
    return Held(Dates(**values), test, derive(test))  # type: ignore[arg-type]


# --- the worked example of the domain notes ------------------------------------------------


def test_bw_135_s8_pf_qualifies_3_to_16_mm_in_pa_and_pf() -> None:
    ranges = derive(piece())
    assert (ranges.thickness_min, ranges.thickness_max) == (3, 16)
    assert ranges.positions == {"PA", "PF"}
    assert ranges.processes == {"135", "138"}
    assert ranges.joints == {"BW"}
    assert "Table 6" in ranges.clauses["thickness"]


def test_a_weld_of_t20_in_pc_is_refused_for_both_reasons() -> None:
    answer = assess(Weld("135", "BW", 20, "PC"), [held(piece())], ON)
    assert not answer.qualified
    failed = {c.variable: c.reason for c in answer.checks if not c.covered}
    assert failed == {
        "thickness": "thickness 20 > 16 (cert 1234, s = 8)",
        "position": "position PC not in PA PF (cert 1234)",
    }


def test_the_same_weld_with_138_t10_pa_is_covered() -> None:
    answer = assess(Weld("138", "BW", 10, "PA"), [held(piece())], ON)
    assert answer.qualified, answer
    assert all(c.covered and c.qualification_id == 1 for c in answer.checks)
    assert answer.validity == []


# --- every row of the tables ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("joint", "x", "low", "high"),
    [
        ("BW", 2, 2, 4),  # s < 3: s … max(3, 2s)
        ("BW", 1, 1, 3),
        ("BW", 3, 3, 6),  # 3 ≤ s < 12: 3 … 2s
        ("BW", 8, 3, 16),
        ("BW", 11.9, 3, 23.8),
        ("BW", 12, 3, None),  # s ≥ 12: ≥ 3
        ("BW", 30, 3, None),
        ("FW", 2, 2, 4),  # t < 3: t … max(3, 2t)
        ("FW", 1, 1, 3),
        ("FW", 3, 3, None),  # t ≥ 3: ≥ 3
        ("FW", 10, 3, None),
    ],
)
def test_thickness_rows(joint: str, x: float, low: float, high: float | None) -> None:
    ranges = derive(piece(joint=joint, test_thickness=x, test_position="PA"))
    assert ranges.thickness_min == pytest.approx(low)
    assert ranges.thickness_max == (None if high is None else pytest.approx(high))


@pytest.mark.parametrize(
    ("d", "low", "high"),
    [
        (10, 10, 20),  # D ≤ 25: D … 2D
        (25, 25, 50),
        (26, 25, None),  # D > 25: ≥ max(0.5·D, 25)
        (60, 30, None),
        (168.3, 84.15, None),
    ],
)
def test_diameter_rows(d: float, low: float, high: float | None) -> None:
    ranges = derive(piece(product="T", test_diameter=d))
    assert ranges.diameter_min == pytest.approx(low)
    assert ranges.diameter_max == (None if high is None else pytest.approx(high))
    assert ranges.covers_plate is (d >= 25)


BW_TABLE = {
    "PA": "PA",
    "PC": "PA PC",
    "PE": "PA PC PE",
    "PF": "PA PF",
    "PH": "PA PE PF PH",  # the domain notes' row, plus the test position itself
    "PG": "PG",
    "PJ": "PA PE PG PJ",
    "H-L045": "PA PC PE PF H-L045",
    "J-L045": "PA PC PE PG J-L045",
}
FW_TABLE = {
    "PA": "PA",
    "PB": "PA PB",
    "PC": "PA PB PC",
    "PD": "PA PB PC PD PE",
    "PE": "PA PB PC PD PE",
    "PF": "PA PB PF",
    "PH": "PA PB PC PD PE PF PH",
    "PG": "PG",
    "PJ": "PA PB PD PE PG PJ",
}


@pytest.mark.parametrize(
    ("joint", "test", "covers"),
    [("BW", k, v) for k, v in BW_TABLE.items()] + [("FW", k, v) for k, v in FW_TABLE.items()],
)
def test_position_rows(joint: str, test: str, covers: str) -> None:
    ranges = derive(piece(joint=joint, test_position=test))
    assert ranges.positions == set(covers.split())
    # ... and the engine applies them: every covered position passes, every other fails.
    for position in rules.POSITIONS:
        answer = assess(
            Weld("135", joint, 5, position),
            [held(piece(joint=joint, test_position=test, test_thickness=5))],
            ON,
        )
        check = next(c for c in answer.checks if c.variable == "position")
        assert check.covered is (position in covers.split()), (joint, test, position)


def test_the_tables_hold_no_row_this_test_does_not_walk() -> None:
    assert {(r.joint, r.test_position) for r in rules.POSITION_RULES} == {
        ("BW", k) for k in BW_TABLE
    } | {("FW", k) for k in FW_TABLE}
    assert all(r.clause.startswith("ISO 9606-1 Table") for r in rules.RANGE_RULES)


def test_values_no_row_covers_are_refused() -> None:
    with pytest.raises(NoRule):
        derive(piece(test_position="PB"))  # PB is a fillet position
    with pytest.raises(NoRule):
        derive(piece(test_thickness=-1))
    with pytest.raises(NoRule):
        derive(piece(product="T", test_diameter=None))
    assert rules.range_rule("thickness_bw", 1000).text == "s ≥ 12: ≥ 3"


# --- processes, joints, products, transfer modes -------------------------------------------


@pytest.mark.parametrize(
    ("test", "covered", "not_covered"),
    [
        ("135", {"135", "138"}, {"136", "141"}),
        ("138", {"135", "138"}, {"131"}),
        ("121", {"121", "125"}, {"111"}),
        ("141", {"141", "143", "145"}, {"142"}),
        ("142", {"142"}, {"141"}),
        ("111", {"111"}, {"114"}),
    ],
)
def test_process_equivalences(test: str, covered: set[str], not_covered: set[str]) -> None:
    ranges = derive(piece(process=test))
    assert covered <= ranges.processes
    assert not (not_covered & ranges.processes)


def test_bw_covers_fw_only_with_the_supplementary_fillet_test() -> None:
    plain = assess(Weld("135", "FW", 8, "PA"), [held(piece())], ON)
    assert not plain.qualified
    assert "joint FW not in BW" in next(c.reason for c in plain.checks if c.variable == "joint")
    with_fillet = assess(Weld("135", "FW", 8, "PA"), [held(piece(fillet_supplement=True))], ON)
    assert with_fillet.qualified
    fw = assess(Weld("135", "BW", 8, "PA"), [held(piece(joint="FW", test_position="PA"))], ON)
    assert not fw.qualified


def test_pipe_of_25_or_more_covers_plate_and_plate_covers_pipe_only_unverified() -> None:
    small = held(piece(product="T", test_diameter=20, test_position="PA"))
    large = held(piece(product="T", test_diameter=60, test_position="PA"))
    assert not assess(Weld("135", "BW", 8, "PA"), [small], ON).qualified
    assert assess(Weld("135", "BW", 8, "PA"), [large], ON).qualified
    plate = held(piece(test_position="PA"))
    assert not assess(Weld("135", "BW", 8, "PA", diameter=168), [plate], ON).qualified
    big_pipe = assess(Weld("135", "BW", 8, "PA", diameter=610), [plate], ON)
    assert big_pipe.qualified
    diameter = next(c for c in big_pipe.checks if c.variable == "diameter")
    assert "unverified" in diameter.reason


def test_short_circuit_transfer_covers_the_others_not_the_reverse() -> None:
    dip = held(piece(transfer_mode="short_circuit"))
    spray = held(piece(transfer_mode="spray"))
    assert assess(Weld("135", "BW", 8, "PA", transfer_mode="spray"), [dip], ON).qualified
    refused = assess(Weld("135", "BW", 8, "PA", transfer_mode="short_circuit"), [spray], ON)
    assert not refused.qualified
    assert any(c.variable == "transfer_mode" and not c.covered for c in refused.checks)


def test_material_group_must_match() -> None:
    q = held(piece(material_group="1.2"))
    assert assess(Weld("135", "BW", 8, "PA", material_group="1.2"), [q], ON).qualified
    assert not assess(Weld("135", "BW", 8, "PA", material_group="8.1"), [q], ON).qualified


# --- validity ------------------------------------------------------------------------------


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 15), 6) == date(2026, 7, 15)


def test_iso_needs_a_confirmation_every_six_months() -> None:
    q = held(piece(), last_confirmed_on=date(2026, 3, 1))
    assert lapses(q.dates, date(2026, 9, 1)) == []
    (lapse,) = lapses(q.dates, date(2026, 9, 2))
    assert lapse.kind == "confirmation_due" and lapse.since == date(2026, 9, 1)
    answer = assess(Weld("135", "BW", 8, "PA"), [q], date(2026, 9, 2))
    assert not answer.qualified and answer.validity == [lapse]


def test_asme_process_clock_runs_from_the_last_weld_with_the_process() -> None:
    q = held(piece(), standard="ASME IX", last_confirmed_on=None, last_welded_on=date(2026, 5, 20))
    assert lapses(q.dates, date(2026, 11, 20)) == []
    (lapse,) = lapses(q.dates, date(2026, 11, 21))
    assert lapse.kind == "process_clock" and "135" in lapse.reason


def test_expired_and_not_yet_issued() -> None:
    q = held(piece(), expires_on=date(2026, 6, 30), last_confirmed_on=date(2026, 6, 1))
    assert [lapse.kind for lapse in lapses(q.dates, date(2026, 7, 1))] == ["expired"]
    assert [lapse.kind for lapse in lapses(q.dates, date(2025, 12, 1))] == ["not_yet_issued"]


def test_one_qualification_must_cover_all_variables() -> None:
    thick = held(piece(test_thickness=12, test_position="PA"), id=1, certificate="A")
    vertical = held(piece(test_thickness=4, test_position="PF"), id=2, certificate="B")
    # A: ≥ 3 mm in PA; B: 3-8 mm in PA PF. A 20 mm weld in PF needs both: not qualified.
    answer = assess(Weld("135", "BW", 20, "PF"), [thick, vertical], ON)
    assert not answer.qualified
    assert len([c for c in answer.checks if not c.covered]) == 1
    assert assess(Weld("135", "BW", 6, "PF"), [thick, vertical], ON).qualification_id == 2


def test_no_qualification_at_all() -> None:
    answer = assess(Weld("135", "BW", 8, "PA"), [], ON)
    assert not answer.qualified and answer.checks[0].reason == "no qualification on record"
