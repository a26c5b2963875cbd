"""ETag and If-None-Match on GET answers (app/core/conditional.py, ADR 0035)."""

from __future__ import annotations

import httpx

from app.core.conditional import matches
from tests import factories as f
from tests.conftest import Headers

MACHINES = "/api/v1/machines"


async def test_a_list_is_tagged_and_answers_304_until_it_changes(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await f.machine(client, admin)
    first = await client.get(MACHINES, headers=admin)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"') and tag.endswith('"')

    same = await client.get(MACHINES, headers={**admin, "If-None-Match": tag})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == tag
    assert "content-type" not in same.headers and "content-length" not in same.headers
    assert same.headers["x-request-id"]  # the other middleware still answer

    await f.machine(client, admin)
    changed = await client.get(MACHINES, headers={**admin, "If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert len(changed.json()["items"]) == 2
    # another page is another representation
    page = await client.get(MACHINES, params={"limit": 1}, headers={**admin, "If-None-Match": tag})
    assert page.status_code == 200


async def test_a_resource_answers_304_to_its_version_until_it_changes(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    url = f"{MACHINES}/{(await f.machine(client, admin))['id']}"
    first = await client.get(url, headers=admin)
    assert first.headers["etag"] == '"1"'
    for sent in ('"1"', 'W/"1"', '"7", "1"', "*"):
        same = await client.get(url, headers={**admin, "If-None-Match": sent})
        assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", '"1"'), sent

    assert (await client.patch(url, json={"name": "renamed"}, headers=admin)).status_code == 200
    changed = await client.get(url, headers={**admin, "If-None-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
    assert changed.json()["name"] == "renamed"


async def test_errors_and_files_are_not_tagged(client: httpx.AsyncClient, admin: Headers) -> None:
    missing = await client.get(f"{MACHINES}/987654", headers={**admin, "If-None-Match": "*"})
    assert missing.status_code == 404 and "etag" not in missing.headers
    await f.machine(client, admin)
    export = await client.get(
        "/api/v1/items/export", params={"format": "csv"}, headers={**admin, "If-None-Match": "*"}
    )
    assert export.status_code == 200 and "etag" not in export.headers


def test_if_none_match_comparison_is_weak() -> None:
    assert matches(b'"a"', b'"a"')
    assert matches(b'W/"a"', b'"a"')
    assert matches(b'"a"', b'W/"a"')
    assert matches(b' "b" , "a" ', b'"a"')
    assert matches(b"*", b'"a"')
    assert not matches(b'"b"', b'"a"')
    assert not matches(b"a", b'"a"')
