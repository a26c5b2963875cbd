"""The proof of the sync recipe: random creates, updates and deletes of machines and work orders,
imports and their undo, interleaved with a client's syncs, a page at a time (so the changes
land between its pages too); after a last sync the client's copy equals the server's lists,
row for row, on every database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.core.db import Database
from app.main import create_app
from app.models import Base
from tests import factories as f
from tests.conftest import Headers, make_settings
from tests.imports import files
from tests.sync.replica import Replica

LISTS = {
    "machines": "/api/v1/machines",
    "workorders": "/api/v1/workorders",
    "imports": "/api/v1/imports",
    "workshop-entries": "/api/v1/workshop-entries",
}
EDITABLE = {"machines": "location", "workorders": "client"}

Op = tuple[str, str, int]  # action, machines or workorders, a number (which row, how many)
# Weighted by repetition: rows are made often enough for the edits and deletes to find some.
ACTIONS = ["create"] * 3 + ["update"] * 2 + ["delete"] * 2 + ["import", "undo"] + ["sync"] * 3
operation = st.tuples(
    st.sampled_from(ACTIONS), st.sampled_from(sorted(EDITABLE)), st.integers(0, 50)
)


@dataclass
class Server:
    """Drives the API; remembers ids it made (some since deleted: a 404 is fine)."""

    client: httpx.AsyncClient
    admin: Headers
    template_id: int
    made: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in LISTS})

    def url(self, resource: str, pick: int) -> str | None:
        ids = self.made[resource]
        return f"{LISTS[resource]}/{ids[pick % len(ids)]}" if ids else None

    async def apply(self, action: str, resource: str, pick: int) -> None:
        if action == "create":
            maker = f.machine if resource == "machines" else f.work_order
            self.made[resource].append((await maker(self.client, self.admin))["id"])
        elif action == "import":
            rows = 1 + pick % 4
            response = await self.client.post(
                f"/api/v1/templates/{self.template_id}/imports",
                files={"file": ("a.xlsx", files.xlsx(files.rows(rows)), "text/plain")},
                params={"force": "true"},
                headers=self.admin,
            )
            assert response.status_code == 201, response.text
            self.made["imports"].append(response.json()["id"])
        elif (url := self.url("imports" if action == "undo" else resource, pick)) is not None:
            if action == "update":
                body = {EDITABLE[resource]: f"edit {pick}"}
                response = await self.client.patch(url, json=body, headers=self.admin)
            else:  # delete, undo
                response = await self.client.delete(url, headers=self.admin)
            assert response.status_code in (200, 204, 404, 409), response.text

    async def table(self, url: str) -> dict[int, dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        skip = 0
        while True:
            params = {"skip": skip, "limit": 1000}
            page = (await self.client.get(url, params=params, headers=self.admin)).json()
            rows |= {row["id"]: row for row in page["items"]}
            if not page["has_more"]:
                return rows
            skip += len(page["items"])


@pytest.fixture
async def unlimited(db: Database, tmp_path: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app without rate limits: an example sends a few hundred requests."""
    app = create_app(make_settings(rate_limit_enabled=False, upload_dir=tmp_path), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.importer.wait_idle()


async def _steps(syncing: AsyncIterator[None] | None, n: int) -> AsyncIterator[None] | None:
    """Advance a sync in progress by `n` pages; None when it has ended."""
    for _ in range(n):
        if syncing is None:
            return None
        try:
            await anext(syncing)
        except StopAsyncIteration:
            return None
    return syncing


async def fresh(db: Database) -> None:
    """Every example from an empty workshop (the fixtures' API key stays)."""
    async with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ("api_keys", "users"):
                await conn.execute(table.delete())


async def run(operations: list[Op], client: httpx.AsyncClient, admin: Headers) -> None:
    machine = await f.machine(client, admin)
    template = await f.template(
        client,
        admin,
        machine["id"],
        sheet="Daten",
        mapping=files.MAPPING,
        timestamp_field="ts",
        timezone="Europe/Ljubljana",
    )
    server = Server(client, admin, template["id"])
    replica = Replica(LISTS, admin, limit=2)  # small pages: changes land between them
    syncing: AsyncIterator[None] | None = None
    for action, resource, pick in operations:
        if action == "sync":
            syncing = await _steps(syncing or replica.sync(client), 1 + pick % 6)
        else:
            await server.apply(action, resource, pick)
    await _steps(syncing, 10_000)
    await replica.sync_all(client)
    for resource, url in LISTS.items():
        assert replica.rows.get(resource, {}) == await server.table(url), resource


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=3, max_size=20))
# A row read, then deleted; an import read, then undone; a row changed while being read.
@example(operations=[("create", "machines", 0), ("sync", "", 8), ("delete", "machines", 0)])
@example(operations=[("import", "", 2), ("sync", "", 8), ("undo", "", 0)])
@example(
    operations=[
        *[("create", "workorders", 0)] * 4,
        ("sync", "", 0),
        ("update", "workorders", 0),
        ("delete", "workorders", 3),
        ("sync", "", 0),
    ]
)
async def test_a_synced_copy_equals_the_server(
    operations: list[Op], unlimited: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    await fresh(db)
    await run(operations, unlimited, admin)
