"""Resolution and judgement of one run, as the parser does it (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.conformance import service
from app.conformance.checks import PassRanges
from app.conformance.runs import BITS, Context, Judge, WeldPlan, WpsPlan, is_run_template
from app.imports.service import RUN_KEYS

WPS_101 = WpsPlan(
    id=7,
    number="WPS-101",
    revision=2,
    process="135",
    passes={
        1: PassRanges("WPS WPS-101 rev 2", 1, current=(110, 150)),
        2: PassRanges("WPS WPS-101 rev 2", 2, current=(180, 260), heat_input=(None, 1.2)),
    },
)
WPS_102 = WpsPlan(
    id=8,
    number="WPS-102",
    revision=0,
    process="141",
    passes={1: PassRanges("WPS WPS-102 rev 0", 1, current=(80, 120))},
)
CONTEXT = Context(
    badges={"0457": 11, "B-12": 12},
    wps=[WPS_101, WPS_102],
    jobs={"5": "WPS-101", "9": "WPS-404"},
    welds=[
        WeldPlan(21, "WO-1", "W-1", "WPS-101", "135", True),
        WeldPlan(22, "WO-2", "W-1", "WPS-101", "135", False),  # the same reference, closed
        WeldPlan(23, "WO-2", "W-2", "WPS-102", "141", True),
        WeldPlan(24, "WO-3", "W-2", None, None, True),
    ],
)
FIELDS = [
    "ts",
    "welder_badge",
    "job_number",
    "wps_number",
    "order_id",
    "weld_reference",
    "pass_seq",
    "current_a",
    "voltage_v",
    "arc_time_s",
    "length_mm",
]


def judge(data: dict[str, Any], fields: list[str] = FIELDS) -> Any:
    return Judge(CONTEXT, fields).judge(data)


def run(**over: Any) -> dict[str, Any]:
    return {
        "order_id": "WO-1",
        "weld_reference": "W-1",
        "welder_badge": "0457",
        "wps_number": "WPS-101",
        "pass_seq": 2,
        "current_a": 220,
        "voltage_v": 25,
        "arc_time_s": 60,
        "length_mm": 300,
        **over,
    }


def test_the_context_travels_as_json_and_back() -> None:
    back = Context.decode(CONTEXT.encode())
    assert back.encode() == CONTEXT.encode()
    assert back.wps_of("wps-101") == WPS_101  # number without case
    assert back.weld("W-1", "wo-1") == CONTEXT.welds[0]


def test_a_run_template_maps_a_tie() -> None:
    assert is_run_template(["ts", "welder_badge"]) and is_run_template(["job_number"])
    assert not is_run_template(["ts", "current_a", "voltage_v"])


def test_a_run_in_range() -> None:
    judged = judge(run())
    assert judged.unresolved == []
    c = judged.columns
    assert (c["welder_id"], c["wps_id"], c["pass_seq"], c["process"]) == (11, 7, 2, "135")
    assert c["verdict"] == "pass" and c["failures"] == 0
    assert c["heat_input"] == pytest.approx(0.8 * 25 * 220 / 5 / 1000)
    assert c["conformance"] is None  # a clean pass stores no JSON: columns and data tell all


def test_runs_with_the_same_ties_are_resolved_once() -> None:
    judging = Judge(CONTEXT, FIELDS)
    first, second = judging.judge(run()), judging.judge(run(current_a=230))
    assert len(judging.ties) == 1
    assert first.columns["welder_id"] == second.columns["welder_id"] == 11
    other = judging.judge(run(welder_badge="0999"))
    assert len(judging.ties) == 2 and other.unresolved == [("welder_badge", "badge 0999 unknown")]
    again = judging.judge(run(welder_badge="0999"))
    assert again.unresolved == other.unresolved


def test_every_failing_parameter_is_a_reason_and_a_bit() -> None:
    c = judge(run(current_a=300, arc_time_s=30)).columns  # v = 10 mm/s: Q 0.6 in range
    assert c["verdict"] == "fail" and c["failures"] == BITS["current"]
    c = judge(run(current_a=300, arc_time_s=120)).columns  # v = 2.5 mm/s: Q 2.4
    assert c["failures"] == BITS["current"] | BITS["heat_input"]
    texts = [r["text"] for r in c["conformance"]["reasons"]]
    assert texts == [
        "current 300 A > 260 A (WPS WPS-101 rev 2, pass 2)",
        "heat input 2.4 kJ/mm > 1.2 kJ/mm (WPS WPS-101 rev 2, pass 2)",
    ]


def test_badges_ignore_leading_zeros_and_case() -> None:
    assert judge(run(welder_badge="457")).columns["welder_id"] == 11
    assert judge(run(welder_badge="b-12")).columns["welder_id"] == 12
    judged = judge(run(welder_badge="0999"))
    assert judged.columns["welder_id"] is None
    assert judged.unresolved == [("welder_badge", "badge 0999 unknown")]
    assert judged.columns["conformance"]["unresolved"] == ["badge 0999 unknown"]
    assert judge(run(welder_badge=None)).unresolved == [("welder_badge", "no welder badge")]


def test_the_wps_from_its_column_the_job_map_or_the_weld() -> None:
    assert judge(run(wps_number=None, job_number="5")).columns["wps_id"] == 7
    unmapped = judge(run(wps_number=None, job_number="6"))
    assert unmapped.unresolved == [("job_number", "job 6 is not in the template's job map")]
    assert unmapped.columns["verdict"] == "not_checkable"
    unknown = judge(run(wps_number=None, job_number="9"))
    assert unknown.unresolved == [("job_number", "WPS WPS-404 has no approved revision")]
    from_weld = judge(run(wps_number=None, order_id="WO-2", weld_reference="W-2", pass_seq=1))
    assert from_weld.columns["wps_id"] == 8 and from_weld.columns["process"] == "141"
    unwelded = [f for f in FIELDS if f != "weld_reference"]
    none = judge(run(wps_number=None, weld_reference=None), unwelded)
    assert none.unresolved == [("wps_number", "no WPS number or job number")]


def test_a_weld_by_order_and_reference_or_by_a_reference_unique_among_open_orders() -> None:
    assert judge(run(order_id="WO-2", weld_reference="W-1")).columns["weld_id"] == 22
    assert judge(run(order_id=None)).columns["weld_id"] == 21  # the open one
    ambiguous = judge(run(order_id=None, weld_reference="W-2", wps_number=None, job_number="5"))
    assert ambiguous.unresolved == [
        ("weld_reference", "weld W-2 is in 2 open work orders (map order_id)")
    ]
    missing = judge(run(order_id="WO-1", weld_reference="W-9"))
    assert missing.unresolved == [("weld_reference", "weld W-9 unknown in work order WO-1")]


def test_a_run_against_the_plan_fails() -> None:
    other = judge(
        run(
            wps_number="WPS-102",
            pass_seq=1,
            current_a=100,
            order_id="WO-1",
            weld_reference="W-1",
            process="141",
        )
    )
    reasons = other.columns["conformance"]["reasons"]
    assert other.columns["verdict"] == "fail" and other.columns["failures"] == BITS["wps"]
    assert (
        reasons[0]["text"] == "run under WPS WPS-102 rev 0; weld W-1 is planned under WPS WPS-101"
    )
    process = judge(run(process="111"))
    assert process.columns["failures"] == BITS["process"]
    assert process.columns["conformance"]["reasons"][-1]["text"] == (
        "process 111 is not WPS WPS-101 rev 2's 135"
    )


def test_the_pass_by_its_column_the_only_pass_or_the_order_of_runs() -> None:
    bad = judge(run(pass_seq=4))
    assert bad.unresolved == [("pass_seq", "pass 4 not in WPS WPS-101 rev 2 (1, 2)")]
    assert judge(run(pass_seq=1.5)).unresolved == [("pass_seq", "pass 1.5 is not a whole number")]
    single = judge(
        run(
            order_id="WO-2",
            weld_reference="W-2",
            wps_number="WPS-102",
            pass_seq=None,
            current_a=100,
            process="141",
        )
    )
    assert single.columns["pass_seq"] == 1 and single.columns["verdict"] == "pass"
    fields = [f for f in FIELDS if f != "pass_seq"]
    ordered = Judge(CONTEXT, fields)
    runs = [
        ordered.judge(run(pass_seq=None, weld_reference="W-1", current_a=a)) for a in (130, 220)
    ]
    assert [r.columns["pass_seq"] for r in runs] == [1, 2]
    assert [r.columns["verdict"] for r in runs] == ["pass", "pass"]
    third = ordered.judge(run(pass_seq=None, weld_reference="W-1"))
    assert third.unresolved == [
        ("pass_seq", "run 3 of weld W-1 but WPS WPS-101 rev 2 has 2 passes")
    ]
    unwelded = [f for f in fields if f != "weld_reference"]
    nowhere = Judge(CONTEXT, unwelded).judge(run(pass_seq=None, weld_reference=None))
    assert nowhere.unresolved[0][0] == "pass_seq" and "map pass_seq" in nowhere.unresolved[0][1]


def test_a_tack_is_resolved_but_not_judged() -> None:
    judged = judge(run(tack=True, welder_badge="0999"))
    assert judged.unresolved == [] and judged.columns["verdict"] is None
    assert judged.columns["wps_id"] == 7


def test_what_is_not_measured_is_not_checkable() -> None:
    judged = judge(run(current_a=None, vendor_ok=False))
    c = judged.columns
    assert c["verdict"] == "not_checkable"
    assert [r["parameter"] for r in c["conformance"]["reasons"]] == ["current", "heat_input"]


@pytest.mark.parametrize(
    ("over", "verdict", "quick"),
    [
        ({}, "pass", True),
        ({"current_a": 130}, "fail", True),  # over pass 1's range
        ({"current_a": 130, "voltage_v": None}, "fail", True),  # no heat input either
        ({"pass_seq": 1, "current_a": 130}, "fail", True),  # a pass column: the full path
        ({"tack": True}, None, True),
        ({"welder_badge": "0999"}, "pass", False),  # unresolved
        ({"job_number": "5", "wps_number": None}, "fail", False),  # WPS-101: not the weld's
        ({"arc_time_s": None}, "pass", True),  # no travel speed, no heat range to miss
    ],
)
def test_the_quick_path_of_one_pass_wps_agrees_with_the_full_one(
    over: dict[str, Any], verdict: str | None, quick: bool
) -> None:
    """Runs of ties with a one-pass WPS and nothing unresolved go by `Judge.quick` when they
    pass; every run gets the columns and unresolved parts the full path gives."""
    data = (
        run(
            wps_number="WPS-102",
            weld_reference="W-2",
            order_id="WO-2",
            current_a=100,
            pass_seq=None,
        )
        | over
    )
    fields = [*FIELDS, "tack"]
    judging = Judge(CONTEXT, fields)
    got = judging.values(data)
    (key,) = judging.quick
    assert (judging.quick[key] is not None) == quick
    assert got == Judge(CONTEXT, fields)._values(key, data)
    assert got[0][5] == verdict


@pytest.mark.anyio
async def test_groups_that_do_not_add_up_to_the_runs_are_counted_again() -> None:
    """The API trusts a chunk's groups only for as many runs as it has: else it counts them."""
    day = date(2026, 11, 30)
    recorded = datetime(2026, 11, 30, 9, tzinfo=UTC)
    # two runs without a welder (nothing to ask the engine), the groups claim five
    rows = [
        (1, 2, 3, n, recorded, {}, None, 5, 7, 1, "135", "pass", 0.8, 0, None, recorded)
        for n in (2, 3)
    ]
    sent = [[day.isoformat(), None, 5, 7, "pass", 0, 5]]
    gate = service.QualificationCheck(None)  # type: ignore[arg-type]
    kept, groups = await service.settle(
        rows, RUN_KEYS, service.groups_sent(sent), gate, lambda _: False
    )
    assert kept == rows
    assert groups == {(day, None, 5, 7, "pass", 0): 2}
    assert service.summary(groups, 0)["pass"] == 2
