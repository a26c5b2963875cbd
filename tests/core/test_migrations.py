"""upgrade -> downgrade base -> upgrade through the CLI, and "models == migrations", on every
backend, each on a database of its own."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.models import (
    Base,
    ConformanceDayTotal,
    EntryDayTotal,
    Equipment,
    Inspection,
    InspectionDayTotal,
    Machine,
    Template,
    Weld,
    WorkOrder,
    WorkOrderDayTotal,
    WorkshopEntry,
)
from app.models.base import UTCDateTime
from tests.databases import provision_database, selected_backends


def workshop(monkeypatch: pytest.MonkeyPatch, url: URL, *args: str) -> str:
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output + str(result.exception)
    return result.stdout


async def table_names(url: URL) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def machine_and_template(conn: Any, stamp: dict[str, Any]) -> None:
    """Machine 1 and its template 1, written straight into a migrated database."""
    await conn.execute(
        insert(Machine),
        [
            {
                "code": "M1",
                "name": "R1",
                "type": "robot",
                "status": "active",
                "metadata": {},
                **stamp,
            }
        ],
    )
    await conn.execute(
        insert(Template),
        [
            {
                "name": "T",
                "machine_id": 1,
                "header_row": 1,
                "mapping": [],
                "timezone": "UTC",
                "active": True,
                **stamp,
            }
        ],
    )


@pytest.mark.parametrize("backend", selected_backends())
async def test_upgrade_downgrade_upgrade_and_check(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with provision_database(backend, tmp_path) as url:

        def run(*args: str) -> str:
            return workshop(monkeypatch, url, *args)

        assert "empty database" in await asyncio.to_thread(run, "db", "current")
        assert "(head)" in await asyncio.to_thread(run, "db", "upgrade")
        assert set(Base.metadata.tables) <= await table_names(url)
        assert "match" in await asyncio.to_thread(run, "db", "check")

        await asyncio.to_thread(run, "db", "downgrade", "base")
        assert await table_names(url) <= {"alembic_version"}

        await asyncio.to_thread(run, "db", "upgrade")
        assert set(Base.metadata.tables) <= await table_names(url)
        assert "(head)" in await asyncio.to_thread(run, "db", "current")
        assert "match" in await asyncio.to_thread(run, "db", "check")


@pytest.mark.parametrize("backend", selected_backends())
async def test_day_totals_are_counted_from_the_rows_there_are(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading a database that holds entries, inspections and work orders gives them their
    day totals (ADR 0019, 0020, 0041)."""
    async with provision_database(backend, tmp_path) as url:
        await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade", "14a874ae26a6")
        engine = create_async_engine(url)
        now = datetime.now(UTC)
        stamp = {"created_at": now, "updated_at": now, "version": 1}
        try:
            async with engine.begin() as conn:
                await machine_and_template(conn, stamp)
                await conn.execute(
                    insert(WorkshopEntry),
                    [
                        {
                            "template_id": 1,
                            "machine_id": 1,
                            "row_number": n,
                            "recorded_at": datetime(2026, 11, 24, 6 + 8 * n, tzinfo=UTC),
                            "data": {"arc_time_s": 10.0 * n, "seam": "S"},
                            "created_at": now,
                        }
                        for n in range(3)  # 06:00, 14:00 and 22:00
                    ]
                    + [
                        {
                            "template_id": 1,
                            "machine_id": 1,
                            "row_number": 9,
                            "recorded_at": None,
                            "data": {"arc_time_s": 99},
                            "created_at": now,
                        }
                    ],
                )
                await conn.execute(
                    insert(WorkOrder),
                    [
                        {
                            "order_id": "WO-1",
                            "client": "Acme",
                            "quantity": 1,
                            "status": "open",
                            "priority": "normal",
                            "due_date": None,
                            "completed_at": None,
                            **stamp,
                        },
                        {
                            "order_id": "WO-2",
                            "client": "Acme",
                            "quantity": 1,
                            "status": "completed",
                            "priority": "urgent",
                            "due_date": date(2026, 11, 20),
                            **stamp,
                            "created_at": datetime(2026, 11, 16, 6, tzinfo=UTC),
                            "completed_at": datetime(2026, 11, 19, 18, tzinfo=UTC),
                        },
                    ],
                )
                await conn.execute(
                    insert(Inspection),
                    [
                        {
                            "work_order_id": 1,
                            "machine_id": 1,
                            "method": "VT",
                            "result": result,
                            "weld_reference": "W1",
                            "defects": defects,
                            "first_of_weld": first,
                            "weld_repaired": True,
                            "inspected_at": at,
                            **stamp,
                        }
                        for result, defects, first, at in (
                            (
                                "Fail",
                                [{"code": 2011, "count": 2}],
                                True,
                                datetime(2026, 11, 24, 23, tzinfo=UTC),
                            ),
                            ("Pass", [], False, datetime(2026, 11, 25, 1, tzinfo=UTC)),
                        )
                    ],
                )
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade")
            async with engine.connect() as conn:
                orders = {
                    (r.dimension, r.day.isoformat(), r.key): (
                        r.orders,
                        r.with_due,
                        r.on_time,
                        r.lead_time,
                    )
                    for r in await conn.execute(select(WorkOrderDayTotal))
                }
                quality = {
                    (r.day.isoformat(), r.dimension, r.key): (
                        r.inspections,
                        r.passed,
                        r.welds,
                        r.first_pass,
                        r.repaired,
                    )
                    for r in await conn.execute(select(InspectionDayTotal))
                }
                rows = (
                    await conn.execute(
                        select(
                            EntryDayTotal.day,
                            EntryDayTotal.field,
                            EntryDayTotal.count,
                            EntryDayTotal.total,
                            EntryDayTotal.low,
                            EntryDayTotal.high,
                        ).order_by(EntryDayTotal.field)
                    )
                ).all()
        finally:
            await engine.dispose()
        assert [tuple(r) for r in rows] == [
            (date(2026, 11, 24), "", 3, None, None, None),
            (date(2026, 11, 24), "arc_time_s", 3, 30.0, 0.0, 20.0),
        ]
        today = now.date().isoformat()
        # 3.5 days of lead time in the database's unit (app.work_orders.totals.PER_DAY)
        lead = {"sqlite": 302_400_000, "mariadb": 302_400, "postgresql": 302_400_000_000}[backend]
        assert orders == {
            ("status", today, "open"): (1, 0, 0, 0),
            ("priority", today, "normal"): (1, 0, 0, 0),
            ("status", "2026-11-16", "completed"): (1, 0, 0, 0),
            ("priority", "2026-11-16", "urgent"): (1, 0, 0, 0),
            ("completed", "2026-11-16", "2026-11-16"): (1, 1, 1, lead),
        }
        assert quality == {
            ("2026-11-24", "all", ""): (1, 0, 1, 0, 1),
            ("2026-11-24", "machine", "1"): (1, 0, 1, 0, 1),
            ("2026-11-24", "welder", ""): (1, 0, 1, 0, 1),
            ("2026-11-24", "method", "VT"): (1, 0, 1, 0, 1),
            ("2026-11-24", "client", "Acme"): (1, 0, 1, 0, 1),
            ("2026-11-24", "defect", "2011"): (2, 0, 0, 0, 0),
            ("2026-11-25", "all", ""): (1, 1, 0, 0, 0),
            ("2026-11-25", "machine", "1"): (1, 1, 0, 0, 0),
            ("2026-11-25", "welder", ""): (1, 1, 0, 0, 0),
            ("2026-11-25", "method", "VT"): (1, 1, 0, 0, 0),
            ("2026-11-25", "client", "Acme"): (1, 1, 0, 0, 0),
        }


@pytest.mark.parametrize("backend", selected_backends())
async def test_conformance_totals_are_counted_from_the_runs_there_are(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0040: upgrading a database that holds judged runs gives them their day totals, by
    the workshop's day and the work order of their weld; down and up again counts them anew."""
    async with provision_database(backend, tmp_path) as url:
        await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade", "2f9f411fe9b4")
        engine = create_async_engine(url)
        now = datetime.now(UTC)
        stamp = {"created_at": now, "updated_at": now, "version": 1}
        late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
        try:
            async with engine.begin() as conn:
                await machine_and_template(conn, stamp)
                await conn.execute(
                    insert(WorkOrder),
                    [
                        {
                            "order_id": "WO-1",
                            "client": "Acme",
                            "quantity": 1,
                            "status": "open",
                            "priority": "normal",
                            **stamp,
                        }
                    ],
                )
                await conn.execute(
                    insert(Weld),
                    [
                        {
                            "work_order_id": 1,
                            "reference": "W1",
                            "joint": "BW",
                            "thickness": 10,
                            "position": "PA",
                            "status": "planned",
                            **stamp,
                        }
                    ],
                )
                await conn.execute(
                    insert(WorkshopEntry),
                    [
                        {
                            "template_id": 1,
                            "machine_id": 1,
                            "row_number": n,
                            "recorded_at": at,
                            "data": {},
                            "weld_id": weld,
                            "verdict": verdict,
                            "failures": failures,
                            "created_at": now,
                        }
                        for n, (at, weld, verdict, failures) in enumerate(
                            (
                                (late, 1, "pass", 0),
                                (late, 1, "fail", 1 | 16),  # current and heat input
                                (late, 1, None, None),  # a tack
                                (None, None, "not_checkable", None),
                            )
                        )
                    ],
                )

            async def counted() -> dict[tuple[Any, ...], tuple[int, ...]]:
                t = ConformanceDayTotal
                async with engine.connect() as conn:
                    rows = await conn.execute(
                        select(
                            t.day,
                            t.work_order_id,
                            t.runs,
                            t.passed,
                            t.failed,
                            t.not_checkable,
                            t.failed_current,
                            t.failed_heat_input,
                        )
                    )
                    return {(r[0], r[1]): tuple(r[2:]) for r in rows}

            expected = {
                (date(2026, 11, 24), 1): (2, 1, 1, 0, 1, 1),
                (date(1, 1, 1), 0): (1, 0, 0, 1, 0, 0),
            }
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade")
            assert await counted() == expected
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "downgrade", "2f9f411fe9b4")
            assert "conformance_day_totals" not in await table_names(url)
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade")
            assert await counted() == expected
        finally:
            await engine.dispose()


@pytest.mark.parametrize("backend", selected_backends())
async def test_role_sources_keep_the_roles_there_are_and_the_keys_creators(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Users from before role sources keep their role, as set by an admin; SQLite rebuilds
    `users` for the new checks and `api_keys` for their creator keys, and the keys' links to
    their creators survive both ways; downgrading shuts pending users out rather than letting
    them read."""
    now = datetime.now(UTC)
    stamp = {"created_at": now, "updated_at": now, "version": 1}
    users = sa.table(
        "users",
        *(sa.column(c) for c in ("id", "firebase_uid", "role", "active", "version")),
        *(sa.column(c) for c in ("role_source", "assigned_role")),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    keys = sa.table(
        "api_keys",
        *(sa.column(c) for c in ("id", "name", "prefix", "key_hash", "role", "created_by_id")),
        sa.column("version"),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    async with provision_database(backend, tmp_path) as url:
        await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade", "f1696370dee6")
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(users),
                    [{"id": 1, "firebase_uid": "u1", "role": "manager", "active": True, **stamp}],
                )
                await conn.execute(
                    insert(keys),
                    [
                        {
                            "id": 1,
                            "name": "k",
                            "prefix": "wk_x",
                            "key_hash": "h",
                            "role": "admin",
                            "created_by_id": 1,
                            **stamp,
                        }
                    ],
                )
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade")
            async with engine.begin() as conn:
                row = (await conn.execute(select(users).where(users.c.id == 1))).one()
                assert (row.role, row.role_source, row.assigned_role) == (
                    "manager",
                    "admin",
                    "manager",
                )
                assert await conn.scalar(select(keys.c.created_by_id)) == 1
                await conn.execute(
                    insert(users),
                    [
                        {
                            "id": 2,
                            "firebase_uid": "u2",
                            "role": "pending",
                            "role_source": "none",
                            "active": True,
                            **stamp,
                        }
                    ],
                )
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "downgrade", "f1696370dee6")
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(select(users.c.role, users.c.active).where(users.c.id == 2))
                ).one()
                assert tuple(rows) == ("viewer", False)
                assert await conn.scalar(select(keys.c.created_by_id)) == 1
        finally:
            await engine.dispose()


@pytest.mark.parametrize("backend", selected_backends())
async def test_qualification_ranges_and_wps_numbers_move_without_loss(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Free-text qualification ranges become notes (and come back on downgrade); a work order's
    free-text WPS number becomes a reference where an approved WPS of that number exists."""
    async with provision_database(backend, tmp_path) as url:
        await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade", "ad0e9965aaa9")
        engine = create_async_engine(url)
        now = datetime.now(UTC)
        stamp = {"created_at": now, "updated_at": now, "version": 1}
        md = sa.MetaData()
        old_qualifications = sa.Table(
            "qualifications",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("employee_id", sa.Integer),
            sa.Column("standard", sa.String),
            sa.Column("process", sa.String),
            sa.Column("certificate_number", sa.String),
            sa.Column("positions", sa.String),
            sa.Column("thickness_range", sa.String),
            sa.Column("issued_on", sa.Date),
            sa.Column("created_at", UTCDateTime()),
            sa.Column("updated_at", UTCDateTime()),
            sa.Column("version", sa.Integer),
        )
        orders = sa.Table(
            "work_orders",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("order_id", sa.String),
            sa.Column("client", sa.String),
            sa.Column("wps_number", sa.String),
            sa.Column("quantity", sa.Integer),
            sa.Column("status", sa.String),
            sa.Column("priority", sa.String),
            sa.Column("created_at", UTCDateTime()),
            sa.Column("updated_at", UTCDateTime()),
            sa.Column("version", sa.Integer),
        )
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    sa.text(
                        "INSERT INTO employees (employee_number, first_name, last_name, role, "
                        "active, created_at, updated_at, version) "
                        "VALUES ('E-1', 'Ana', 'Novak', 'welder', :t, :now, :now, 1)"
                    ),
                    {"now": now.replace(tzinfo=None), "t": True},
                )
                await conn.execute(
                    insert(old_qualifications),
                    [
                        {
                            "employee_id": 1,
                            "standard": "ISO 9606-1",
                            "process": "135",
                            "certificate_number": "C-1",
                            "positions": "PA, PB, PF",
                            "thickness_range": "3-30 mm",
                            "issued_on": date(2025, 1, 1),
                            **stamp,
                        },
                        {
                            "employee_id": 1,
                            "standard": "ISO 9606-1",
                            "process": "141",
                            "certificate_number": "C-2",
                            "positions": None,
                            "thickness_range": None,
                            "issued_on": date(2025, 1, 1),
                            **stamp,
                        },
                    ],
                )
                await conn.execute(
                    insert(orders),
                    [
                        {
                            "order_id": f"WO-{n}",
                            "client": "Acme",
                            "wps_number": number,
                            "quantity": 1,
                            "status": "open",
                            "priority": "normal",
                            **stamp,
                        }
                        for n, number in enumerate(("WPS-7", "WPS-8", None))
                    ],
                )
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade", "e6f6a40f4d34")
            async with engine.begin() as conn:
                for number, status in (("WPS-7", "approved"), ("WPS-8", "draft")):
                    await conn.execute(
                        sa.text(
                            "INSERT INTO wps (number, revision, status, standard, pqr_references, "
                            "process, joint, material_groups, positions, created_at, updated_at, "
                            "version) VALUES (:number, 0, :status, 'ISO 15614-1', '[]', '135', "
                            "'BW', '', '', :now, :now, 1)"
                        ),
                        {"number": number, "status": status, "now": now.replace(tzinfo=None)},
                    )
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade")
            async with engine.connect() as conn:
                notes = (
                    await conn.execute(sa.text("SELECT notes FROM qualifications ORDER BY id"))
                ).scalars()
                first, second = list(notes)
                linked = (
                    await conn.execute(
                        sa.text("SELECT wps_number, wps_id FROM work_orders ORDER BY id")
                    )
                ).all()
            assert "PA, PB, PF" in first and "3-30 mm" in first
            assert second is None
            assert [(n, w is not None) for n, w in linked] == [
                ("WPS-7", True),
                ("WPS-8", False),  # a draft goes on no work
                (None, False),
            ]

            await asyncio.to_thread(workshop, monkeypatch, url, "db", "downgrade", "ad0e9965aaa9")
            async with engine.connect() as conn:
                restored = (
                    await conn.execute(
                        sa.text("SELECT positions, thickness_range FROM qualifications ORDER BY id")
                    )
                ).all()
            assert [tuple(r) for r in restored] == [("PA, PB, PF", "3-30 mm"), (None, None)]
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade")
        finally:
            await engine.dispose()


@pytest.mark.parametrize("backend", selected_backends())
async def test_each_calibrated_equipment_gets_its_first_calibration_record(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0031: the equipment's last calibration becomes a record of its history, and its
    two calibration fields, derived from the history from now on, keep their values."""
    async with provision_database(backend, tmp_path) as url:
        await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade", "e4da80b6ed4e")
        engine = create_async_engine(url)
        now = datetime.now(UTC)
        stamp = {"created_at": now, "updated_at": now, "version": 1}
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(Equipment),
                    [
                        {
                            "code": code,
                            "name": code,
                            "type": "gauge",
                            "status": "operational",
                            "last_calibration_date": last,
                            "calibration_interval_days": interval,
                            "next_calibration_due": due,
                            **stamp,
                        }
                        for code, last, interval, due in (
                            ("G1", date(2026, 1, 10), 180, date(2026, 7, 9)),
                            ("G2", date(2025, 5, 1), None, date(2027, 1, 1)),
                            ("G3", None, 365, date(2026, 12, 1)),
                        )
                    ],
                )
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade")
            async with engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.text(
                            "SELECT equipment_id, calibrated_on, result, performed_by, next_due,"
                            " version FROM calibrations ORDER BY equipment_id"
                        )
                    )
                ).all()
            assert [(r[0], as_date(r[1]), r[2], r[3], as_date(r[4]), r[5]) for r in rows] == [
                (1, date(2026, 1, 10), "pass", "migrated", date(2026, 7, 9), 1),
                (2, date(2025, 5, 1), "pass", "migrated", date(2027, 1, 1), 1),
            ]
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "downgrade", "e4da80b6ed4e")
            async with engine.connect() as conn:
                kept = (
                    await conn.execute(
                        sa.text(
                            "SELECT last_calibration_date, next_calibration_due FROM equipment"
                            " ORDER BY id"
                        )
                    )
                ).all()
            assert [as_date(r[0]) for r in kept] == [date(2026, 1, 10), date(2025, 5, 1), None]
            await asyncio.to_thread(workshop, monkeypatch, url, "db", "upgrade")
        finally:
            await engine.dispose()


def as_date(value: object) -> object:
    """SQLite returns dates read with plain SQL as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value
