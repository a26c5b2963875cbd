from __future__ import annotations

import httpx
from sqlalchemy import func, select

from app import seed
from app.core.db import Database
from app.models import Inspection, Item, WorkOrder, WorkOrderStatus
from tests.conftest import Headers


async def test_seed_makes_a_realistic_workshop(
    db: Database, client: httpx.AsyncClient, admin: Headers
) -> None:
    assert await db.run(seed.is_empty)
    made = await db.run(seed.seed)
    assert made["machines"] >= 5 and made["work_orders"] >= 10
    assert not await db.run(seed.is_empty)

    statuses = set(await db.run(lambda s: s.scalars(select(WorkOrder.status).distinct())))
    assert statuses == set(WorkOrderStatus)
    low = await db.run(
        lambda s: s.scalar(select(func.count()).where(Item.quantity <= Item.reorder_level))
    )
    assert low and low >= 3
    defects = await db.run(lambda s: s.scalars(select(Inspection.defects)))
    assert any(d for d in defects), "some inspections carry ISO 6520 defects"

    # The API reads what the seed wrote, with the rules applied (welder names, derived dates).
    orders = (
        await client.get("/api/v1/workorders", params={"overdue": True}, headers=admin)
    ).json()
    assert orders["total"] >= 2
    assert any(o["assigned_welder_name"] for o in orders["items"])
    expiring = await client.get(
        "/api/v1/employees", params={"qualification_expires_before": "2099-01-01"}, headers=admin
    )
    assert expiring.json()["total"] >= 5

    await db.run(seed.wipe)
    assert await db.run(seed.is_empty)
