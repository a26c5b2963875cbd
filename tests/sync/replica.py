"""A client's copy of some lists, kept by the recipe of docs/Product.md (Incremental sync):
what the app does, written once for the tests.

Every read, the first one included, is incremental: pages of `updated_since`, oldest change
first, each page asked from the last row's change time (inclusive; the rows already taken at
exactly that time are stepped over with `skip`), so rows that change or go while the client
reads move later and are read again instead of shifting a page under it. Then the deletions
feed, the same way. The next sync asks again from the newest time seen less OVERLAP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# The guide says 60 s (a change that commits late with an earlier time). In a test whose
# requests run one after the other any overlap is right; a short one keeps its re-reads few.
OVERLAP = timedelta(seconds=5)
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)  # before any row: the first sync reads them all


def change_time(row: dict[str, Any]) -> datetime:
    found = row.get("updated_at") or row.get("deleted_at") or row["created_at"]
    return datetime.fromisoformat(found)


@dataclass
class Replica:
    lists: dict[str, str]  # resource name (as the deletions feed says it) -> list URL
    headers: dict[str, str]
    limit: int = 100
    rows: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    seen: dict[str, datetime] = field(default_factory=dict)  # newest change time, per list

    async def pages(
        self, client: httpx.AsyncClient, url: str, since: datetime | None, since_name: str
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every row changed at or after `since` (None: every row), a page at a time, by
        keyset on the change time."""
        skip = 0
        while True:
            params: dict[str, Any] = {"skip": skip, "limit": self.limit}
            if since is not None:
                params[since_name] = since.isoformat()
            response = await client.get(url, params=params, headers=self.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            yield page["items"]
            if not page["has_more"]:
                return
            last = change_time(page["items"][-1])
            at_last = sum(1 for row in page["items"] if change_time(row) == last)
            if last == since:  # a page all of one time: step over it
                skip += at_last
            else:
                since, skip = last, at_last

    async def sync(self, client: httpx.AsyncClient) -> AsyncIterator[None]:
        """One sync; yields after every page (the caller may change things in between)."""
        if "deletions" not in self.seen:
            # The first sync reads every row; of the deletions, only those from now on: the
            # newest one's time, taken before the lists are read.
            newest = await client.get(
                "/api/v1/deletions", params={"order": "desc", "limit": 1}, headers=self.headers
            )
            assert newest.status_code == 200, newest.text
            items = newest.json()["items"]
            self.seen["deletions"] = change_time(items[0]) if items else BEGINNING
        for resource, url in self.lists.items():
            copy = self.rows.setdefault(resource, {})
            since = self.seen.get(resource, BEGINNING + OVERLAP) - OVERLAP
            async for items in self.pages(client, url, since, "updated_since"):
                for row in items:
                    copy[row["id"]] = row
                    self.seen[resource] = max(self.seen.get(resource, BEGINNING), change_time(row))
                yield
        seen = self.seen["deletions"]
        since = seen - OVERLAP if seen > BEGINNING else None  # None: all there is (none yet)
        async for items in self.pages(client, "/api/v1/deletions", since, "since"):
            for gone in items:
                copy = self.rows.get(gone["resource"], {})
                held = copy.get(gone["id"])
                # Ids may come back (SQLite reuses the largest): a row newer than the deletion
                # is another row of the same id.
                if held is not None and change_time(held) <= change_time(gone):
                    del copy[gone["id"]]
                self.seen["deletions"] = max(
                    self.seen.get("deletions", BEGINNING), change_time(gone)
                )
            yield

    async def sync_all(self, client: httpx.AsyncClient) -> None:
        async for _ in self.sync(client):
            pass
