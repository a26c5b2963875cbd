"""The work-order figures kept on write (ADR 0041) against the same figures read from the
orders themselves, after every kind of write: creates, status changes that stamp a
completion, reopening, due-date and priority changes, a replace, a bulk UPDATE, deletes and
concurrent edits. Both ways must give the same answer, for the whole table and for ranges of
days, on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert, select, update

from app.core import clock
from app.core.db import Database
from app.dashboards import day_totals, service
from app.dashboards.schemas import DashboardQuery
from app.models import WorkOrder, WorkOrderDayTotal
from tests import factories as f
from tests.conftest import Headers
from tests.dashboards.test_dashboards import get

URL = "/api/v1/workorders"


async def both_ways(db: Database, **query: Any) -> service.OrderFigures:
    """The figures from the totals, checked equal to those read from the orders."""
    q = DashboardQuery.model_validate(query)
    kept = await db.run(lambda s: service.figures_from_totals(s, q, db.dialect), write=False)
    read = await db.run(lambda s: service.figures_from_orders(s, q, db.dialect), write=False)
    assert kept == read, query
    return kept


async def agree(db: Database, *days: date) -> service.OrderFigures:
    """Both ways agree on everything, on each day alone and on the open-ended ranges."""
    for day in days:
        await both_ways(db, **{"from": day, "to": day})
        await both_ways(db, **{"from": day})
        await both_ways(db, to=day)
    return await both_ways(db)


async def kept_rows(db: Database) -> set[tuple[Any, ...]]:
    t = WorkOrderDayTotal
    rows = await db.run(
        lambda s: s.execute(
            select(t.dimension, t.day, t.key, t.orders, t.with_due, t.on_time, t.lead_time)
        )
    )
    return {tuple(r) for r in rows if any(r[3:])}


async def patch(
    http: httpx.AsyncClient, headers: Headers, order: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    response = await http.patch(f"{URL}/{order['id']}", json=changes, headers=headers)
    assert response.status_code == 200, response.text
    patched: dict[str, Any] = response.json()
    return patched


async def test_the_totals_follow_every_write(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    today = clock.today()
    days = (today - timedelta(days=3), today - timedelta(days=1), today)
    late = await f.work_order(client, admin, priority="urgent", due_date=str(today - timedelta(1)))
    busy = await f.work_order(
        client, admin, status="in_progress", due_date=str(today + timedelta(days=4))
    )
    done = await f.work_order(
        client, admin, status="completed", priority="high", due_date=str(today + timedelta(1))
    )
    await f.work_order(client, admin, status="cancelled", due_date=str(today - timedelta(9)))
    loose = await f.work_order(client, admin, priority="low")  # no due date
    figures = await agree(db, *days)
    assert figures.by_status == {"open": 2, "in_progress": 1, "completed": 1, "cancelled": 1}
    assert figures.by_priority == {"urgent": 1, "normal": 2, "high": 1, "low": 1}
    assert (figures.overdue, figures.with_due, figures.on_time) == (1, 1, 1)
    assert figures.lead_time_days == 0.0

    # Completed through the API: stamped now, a day after its due date.
    late = await patch(client, admin, late, status="completed")
    assert late["completed_at"] is not None
    figures = await agree(db, *days)
    assert (figures.overdue, figures.with_due, figures.on_time) == (0, 2, 1)

    await patch(client, admin, busy, due_date=str(today - timedelta(days=2)))  # now overdue
    await patch(client, admin, loose, priority="urgent", due_date=str(today - timedelta(1)))
    figures = await agree(db, *days)
    assert figures.overdue == 2 and figures.by_priority["urgent"] == 2

    # Reopened (a weld failed a later inspection): out of the completions, overdue again.
    await patch(client, admin, late, status="in_progress")
    figures = await agree(db, *days)
    assert (figures.overdue, figures.with_due) == (3, 1)

    replaced = await client.put(
        f"{URL}/{busy['id']}",
        json=f.work_order_payload(
            order_id=busy["order_id"], status="completed", priority="low", due_date=str(today)
        ),
        headers=admin,
    )
    assert replaced.status_code == 200, replaced.text

    # A bulk UPDATE through a session: created three days ago, completed yesterday.
    created = datetime.now(UTC) - timedelta(days=3)
    await db.run(
        lambda s: s.execute(
            update(WorkOrder)
            .where(WorkOrder.id.in_([done["id"], busy["id"]]))
            .values(created_at=created, completed_at=created + timedelta(days=2, hours=1))
        )
    )
    figures = await agree(db, *days)
    assert figures.lead_time_days == 2.04
    early = await both_ways(db, **{"from": days[0], "to": days[0]})
    assert early.by_status == {"completed": 2}

    deleted = await client.delete(f"{URL}/{done['id']}", headers=admin)
    assert deleted.status_code == 204
    figures = await agree(db, *days)
    assert figures.by_status == {"open": 1, "in_progress": 1, "completed": 1, "cancelled": 1}

    # Counting them all again gives the rows the writes kept.
    kept = await kept_rows(db)
    assert kept
    await db.run(day_totals.rebuild)
    assert await kept_rows(db) == kept


async def test_concurrent_edits_of_one_order_count_once(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    today = clock.today()
    order = await f.work_order(client, admin, due_date=str(today - timedelta(days=1)))
    changes = [
        {"status": "completed"},
        {"status": "in_progress"},
        {"priority": "urgent"},
        {"due_date": str(today + timedelta(days=2))},
        {"status": "cancelled"},
        {"priority": "low", "status": "on_hold"},
    ]
    for _ in range(3):
        answers = await asyncio.gather(
            *(client.patch(f"{URL}/{order['id']}", json=c, headers=admin) for c in changes),
            *(f.work_order(client, admin, due_date=str(today - timedelta(days=2))) for _ in "ab"),
        )
        codes = [a.status_code for a in answers if isinstance(a, httpx.Response)]
        assert set(codes) <= {200, 409, 412}, codes  # 409: not allowed from the status it hit
        assert 200 in codes
        await agree(db, today)
    figures = await both_ways(db)
    assert sum(figures.by_status.values()) == 7


async def test_the_dashboards_answer_from_the_totals(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    """Only days bound them: the totals are read (an order the totals do not know is not
    counted); narrowed to a client: the orders are."""
    order = await f.work_order(client, admin, client="Acme")
    await db.run(
        lambda s: s.execute(delete(WorkOrderDayTotal).where(WorkOrderDayTotal.key == "open"))
    )
    board = await get(client, admin, "workorders")
    assert board["by_status"] == {} and board["by_priority"] == {"normal": 1}
    stats = await get(client, admin, "stats", to=str(clock.today()))
    assert stats["work_orders"]["by_status"] == {}
    narrowed = await get(client, admin, "workorders", client="acme")
    assert narrowed["by_status"] == {"open": 1}
    assert order["status"] == "open"


async def test_an_insert_statement_is_refused(db: Database) -> None:
    """It would bypass the totals (the defaults it fills in are not seen)."""
    with pytest.raises(TypeError, match="work_order_day_totals"):
        await db.run(lambda s: s.execute(insert(WorkOrder).values(order_id="WO-X", client="Acme")))
