from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.conformance.runs import BITS
from app.core.pagination import ExportOptions, ListQuery
from app.core.schemas import ReadModel, UTCDateTime

Verdict = Literal["pass", "fail", "not_checkable"]
QUALIFICATION_BIT = BITS["qualification"]


class Reason(BaseModel):
    parameter: str = Field(examples=["current"])
    value: float | None
    limit: float | None
    unit: str = Field(examples=["A"])
    text: str = Field(examples=["current 265 A > 260 A (WPS WPS-101 rev 1, pass 2)"])


class EntryRead(ReadModel):
    """An imported row. A run of a run template is also tied to its welder, WPS, weld and
    pass and judged: `verdict` (null on other rows and on tacks), `heat_input` (kJ/mm) and the
    `reasons` of a fail or of a run not checkable."""

    id: int
    template_id: int
    machine_id: int
    import_id: int | None
    row_number: int
    recorded_at: dt.datetime | None
    data: dict[str, Any]
    created_at: dt.datetime
    welder_id: int | None = None
    wps_id: int | None = None
    weld_id: int | None = None
    pass_seq: int | None = None
    process: str | None = None
    verdict: Verdict | None = None
    heat_input: float | None = Field(default=None, description="Q = k · E, kJ/mm")
    heat_input_method: Literal["U*I/v", "energy/length"] | None = Field(
        default=None,
        description="How E was found: from mean current, voltage and travel speed, or from the "
        "machine's energy and the seam length (ASME IX QW-409.1)",
    )
    reasons: list[Reason] = Field(default_factory=list)
    qualified: bool | None = Field(
        default=None, description="The welder qualified for the weld on the run's day"
    )
    vendor_ok: bool | None = Field(default=None, description="The machine's own OK/NOK")
    unresolved: list[str] = Field(
        default_factory=list, description="What could not be tied: badge 0457 unknown, ..."
    )

    @model_validator(mode="before")
    @classmethod
    def _conformance(cls, value: Any) -> Any:
        """The run's reasons and unresolved parts from its `conformance` JSON; the rest from
        its columns and data, which hold it already (ADR 0028)."""
        if isinstance(value, dict):
            return {**value, **shown(value)}
        row = {c: getattr(value, c) for c in (*_COLUMNS, "conformance", "failures")}
        return {**row, **shown(row)}


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """A run's fields that are not columns of their own: its reasons and unresolved parts from
    its `conformance` JSON, the rest from its columns and data, which hold it already."""
    if row.get("verdict") is None:
        return {}
    found = row.get("conformance")
    data = row.get("data") or {}
    fields = {k: found[k] for k in ("reasons", "unresolved") if k in found} if found else {}
    if row.get("welder_id") and row.get("weld_id") and row.get("recorded_at"):
        fields["qualified"] = not (row.get("failures") or 0) & QUALIFICATION_BIT
    if isinstance(data.get("vendor_ok"), bool):
        fields["vendor_ok"] = data["vendor_ok"]
    if row.get("heat_input") is not None:
        energy = data.get("energy_j") and data.get("length_mm")
        fields["heat_input_method"] = "energy/length" if energy else "U*I/v"
    return fields


def item(row: dict[str, Any]) -> dict[str, Any]:
    """The list's JSON item of a row of the table's columns: EntryRead's fields, in its order,
    as pydantic writes them (a reason's value and limit are floats)."""
    fields = shown(row)
    reasons = fields.get("reasons")
    if reasons:
        fields["reasons"] = [
            {
                "parameter": r["parameter"],
                "value": _real(r["value"]),
                "limit": _real(r["limit"]),
                "unit": r["unit"],
                "text": r["text"],
            }
            for r in reasons
        ]
    return {**_EMPTY, **{k: row[k] for k in _COLUMNS}, **fields}


def _real(value: Any) -> float | None:
    return None if value is None else float(value)


class EntryQuery(ListQuery):
    sort_by: Literal["id", "recorded_at"] = "id"
    machine_id: int | None = None
    template_id: int | None = None
    import_id: int | None = None
    verdict: Verdict | None = None
    welder_id: int | None = None
    wps_id: int | None = None
    weld_id: int | None = None
    recorded_from: UTCDateTime | None = None
    recorded_to: UTCDateTime | None = None
    after_id: int | None = Field(
        default=None,
        ge=0,
        description="Only entries with a larger id. With sort_by=id, order=asc and skip=0 it "
        "is a keyset cursor (pass the last page's `next_cursor`): fast at any depth.",
    )


class EntryPage(BaseModel):
    items: list[EntryRead]
    total: int | None = Field(description="null when include_total=false")
    skip: int
    limit: int
    has_more: bool
    next_cursor: int | None = Field(description="Pass as after_id for the next page")


class EntryExport(ExportOptions, EntryQuery):
    pass


_SHOWN = ("reasons", "qualified", "vendor_ok", "unresolved", "heat_input_method")
_COLUMNS = tuple(name for name in EntryRead.model_fields if name not in _SHOWN)
# An item's fields in EntryRead's order, with the values of a row that is not a run
_EMPTY: dict[str, Any] = {
    name: info.get_default(call_default_factory=True)
    for name, info in EntryRead.model_fields.items()
}
