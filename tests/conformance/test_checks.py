"""Heat input and a run's verdict against its WPS pass (EN 1011-1; the domain's worked example)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.conformance.checks import (
    EFFICIENCY,
    NOT_CLEAN,
    PassRanges,
    Run,
    check,
    clean_check,
    convert,
    heat_input,
    travel_speed,
)

EXAMPLE = Run(process="135", voltage_v=25, current_a=240, length_mm=300, arc_time_s=60)


def test_the_worked_example() -> None:
    heat = heat_input(EXAMPLE)
    assert heat is not None
    assert travel_speed(EXAMPLE) == pytest.approx(5.0)
    assert heat.arc_energy == pytest.approx(1.20)
    assert heat.heat_input == pytest.approx(0.96)
    assert (heat.k, heat.method) == (0.8, "U*I/v")


def test_a_pass_maximum_of_0_90_fails_the_example_with_its_reason() -> None:
    result = check(EXAMPLE, PassRanges("WPS-101 rev 0", 2, heat_input=(0.5, 0.90)))
    assert result.verdict == "fail"
    (reason,) = result.reasons
    assert (reason.parameter, reason.value, reason.limit, reason.unit) == (
        "heat_input",
        pytest.approx(0.96),
        0.90,
        "kJ/mm",
    )
    assert reason.text == "heat input 0.96 kJ/mm > 0.9 kJ/mm (WPS-101 rev 0, pass 2)"


def test_current_above_the_range_names_the_wps_and_pass() -> None:
    run = Run(process="135", current_a=265, voltage_v=26, length_mm=300, arc_time_s=60)
    result = check(run, PassRanges("WPS-101 rev 0", 2, current=(180, 260)))
    assert result.verdict == "fail"
    assert [r.text for r in result.reasons] == ["current 265 A > 260 A (WPS-101 rev 0, pass 2)"]
    below = check(Run(process="135", current_a=170), PassRanges("W", 1, current=(180, 260)))
    assert below.reasons[0].text == "current 170 A < 180 A (W, pass 1)"


def test_every_failing_parameter_is_a_reason() -> None:
    ranges = PassRanges("W", 1, current=(180, 260), voltage=(20, 24), heat_input=(0.5, 0.9))
    result = check(EXAMPLE, ranges)
    assert [r.parameter for r in result.reasons] == ["voltage", "heat_input"]


def test_inside_every_range_passes() -> None:
    ranges = PassRanges("W", 1, current=(200, 260), voltage=(22, 28), heat_input=(0.8, 1.1))
    result = check(EXAMPLE, ranges)
    assert (result.verdict, result.reasons) == ("pass", [])


def test_without_length_or_speed_heat_input_is_not_checkable_never_pass() -> None:
    run = Run(process="135", voltage_v=25, current_a=240, arc_time_s=60)
    assert heat_input(run) is None
    result = check(run, PassRanges("W", 1, current=(200, 260), heat_input=(0.5, 1.0)))
    assert result.verdict == "not_checkable"
    assert [r.text for r in result.reasons] == ["heat input not measured (W, pass 1)"]


def test_unknown_process_has_no_heat_input() -> None:
    assert heat_input(Run(process="999", voltage_v=25, current_a=240, travel_speed_mm_s=5)) is None


def test_energy_reported_by_the_machine_gives_the_arc_energy() -> None:
    run = Run(process="141", energy_j=360_000, length_mm=300)  # 1.2 kJ/mm
    heat = heat_input(run)
    assert heat is not None and heat.method == "energy/length"
    assert (heat.arc_energy, heat.heat_input) == (pytest.approx(1.2), pytest.approx(0.72))


@pytest.mark.parametrize(
    ("process", "k"),
    [
        ("121", 1.0),
        ("111", 0.8),
        ("131", 0.8),
        ("135", 0.8),
        ("136", 0.8),
        ("138", 0.8),
        ("141", 0.6),
        ("15", 0.6),
        ("114", 0.8),
    ],
)
def test_thermal_efficiency_table(process: str, k: float) -> None:
    assert EFFICIENCY[process].k == k
    assert EFFICIENCY[process].verified is (process != "114")


@pytest.mark.parametrize(
    ("field", "value", "unit", "expected"),
    [
        ("wire_feed_mm_s", 9.0, "m/min", 150.0),
        ("travel_speed_mm_s", 300.0, "mm/min", 5.0),
        ("energy_j", 1.0, "Wh", 3600.0),
        ("arc_time_s", 1.5, "min", 90.0),
        ("length_mm", 0.3, "m", 300.0),
    ],
)
def test_unit_conversions(field: str, value: float, unit: str, expected: float) -> None:
    assert convert(field, value, unit) == pytest.approx(expected)
    with pytest.raises(KeyError):
        convert(field, value, "furlongs")


_MEASURE = st.one_of(st.none(), st.just(0.0), st.floats(0.1, 500, allow_nan=False))
_LIMIT = st.tuples(st.one_of(st.none(), st.floats(0, 300)), st.one_of(st.none(), st.floats(0, 300)))


@settings(max_examples=400, deadline=None)
@given(
    process=st.sampled_from(["135", "141", "114", "999", ""]),
    values=st.tuples(*[_MEASURE] * 7),
    limits=st.tuples(*[_LIMIT] * 5),
)
def test_the_clean_pass_shortcut_agrees_with_check(
    process: str,
    values: tuple[float | None, ...],
    limits: tuple[tuple[float | None, float | None], ...],
) -> None:
    """The parser's shortcut for a run that passes gives check's verdict and heat input, and
    steps aside (NOT_CLEAN) for every run check does not pass."""
    run = Run(process, *values)
    ranges = PassRanges("WPS-1 rev 0", 1, *[(lo, hi) for lo, hi in limits])
    result = check(run, ranges)
    quick = clean_check(process, ranges)(*values)
    if result.verdict == "pass":
        heat = result.heat_input
        assert quick == (None if heat is None else round(heat.heat_input, 6))
    else:
        assert quick is NOT_CLEAN
