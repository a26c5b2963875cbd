from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, UTCDateTime, utcnow
from app.models.types import Json, OptionalJson


class WorkshopEntry(Base):
    """One row of a machine's Excel export, mapped and typed by its template.

    Written only by imports (in bulk), read in pages of a keyset cursor; expect millions.
    When the template maps run fields, the row is a weld run: the columns from `welder_id` on
    tie it to its welder, WPS, weld and pass and hold its conformance verdict (ADR 0028), so
    lists and dashboards filter on them without reading `data`. NULL on other rows; `verdict`
    is NULL on a tack too (not judged).
    """

    __tablename__ = "workshop_entries"
    __table_args__ = (
        Index("ix_workshop_entries_machine_id_recorded_at", "machine_id", "recorded_at"),
        Index("ix_workshop_entries_template_id_recorded_at", "template_id", "recorded_at"),
        # A welder's evidence of welding with a process: the latest run, by an index seek.
        Index(
            "ix_workshop_entries_welder_process_recorded_at", "welder_id", "process", "recorded_at"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("templates.id"))
    machine_id: Mapped[int] = mapped_column(BigId, ForeignKey("machines.id"))
    import_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("imports.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    welder_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employees.id"))
    wps_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("wps.id"), index=True)
    weld_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("welds.id"), index=True)
    pass_seq: Mapped[int | None] = mapped_column(Integer)
    process: Mapped[str | None] = mapped_column(String(10))
    verdict: Mapped[str | None] = mapped_column(String(16))  # pass | fail | not_checkable
    heat_input: Mapped[float | None] = mapped_column(Double)  # kJ/mm
    failures: Mapped[int | None] = mapped_column(Integer)  # app.conformance.runs.BITS
    conformance: Mapped[dict[str, Any] | None] = mapped_column(OptionalJson)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EntryDayTotal(Base):
    """Per template, machine, workshop day (WORKSHOP_TIMEZONE, ADR 0036) and numeric field: how
    many values, their sum, least and greatest; `field = ''` counts the day's entries. Kept in
    the transaction that writes the entries (app.entries.totals), so the production dashboard
    reads these few rows instead of every entry's JSON (ADR 0019)."""

    __tablename__ = "entry_day_totals"
    __table_args__ = (
        UniqueConstraint("machine_id", "day", "template_id", "field"),
        Index("ix_entry_day_totals_template_id_day", "template_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("templates.id"))
    machine_id: Mapped[int] = mapped_column(BigId, ForeignKey("machines.id"))
    day: Mapped[date] = mapped_column(Date)
    field: Mapped[str] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[float | None] = mapped_column(Double)
    low: Mapped[float | None] = mapped_column(Double)
    high: Mapped[float | None] = mapped_column(Double)


class ConformanceDayTotal(Base):
    """Per workshop day (WORKSHOP_TIMEZONE, ADR 0036) of `recorded_at`, machine, welder, WPS
    and work order (of the run's weld): the judged runs (verdict not NULL), how many passed,
    failed and were not checkable, and per parameter of `app.conformance.runs.BITS` how many
    carry its failure bit. Kept in the transaction that writes or deletes the runs or their
    verdicts (app.conformance.totals), so the conformance dashboard reads these rows instead of
    every run (ADR 0040). The keys are 0 for no welder, WPS or work order (a unique key with
    NULLs would never meet itself); runs without `recorded_at` are kept on day 0001-01-01."""

    __tablename__ = "conformance_day_totals"
    __table_args__ = (
        # named: the convention's name would pass PostgreSQL's 63 characters
        UniqueConstraint(
            "day",
            "machine_id",
            "welder_id",
            "wps_id",
            "work_order_id",
            name="uq_conformance_day_totals_key",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    machine_id: Mapped[int] = mapped_column(BigInteger)
    welder_id: Mapped[int] = mapped_column(BigInteger)
    wps_id: Mapped[int] = mapped_column(BigInteger)
    work_order_id: Mapped[int] = mapped_column(BigInteger)
    runs: Mapped[int] = mapped_column(BigInteger)
    passed: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    not_checkable: Mapped[int] = mapped_column(BigInteger)
    # one per app.conformance.runs.BITS, in its order (tests/conformance checks they agree)
    failed_current: Mapped[int] = mapped_column(BigInteger)
    failed_voltage: Mapped[int] = mapped_column(BigInteger)
    failed_wire_feed: Mapped[int] = mapped_column(BigInteger)
    failed_travel_speed: Mapped[int] = mapped_column(BigInteger)
    failed_heat_input: Mapped[int] = mapped_column(BigInteger)
    failed_qualification: Mapped[int] = mapped_column(BigInteger)
    failed_wps: Mapped[int] = mapped_column(BigInteger)
    failed_process: Mapped[int] = mapped_column(BigInteger)
