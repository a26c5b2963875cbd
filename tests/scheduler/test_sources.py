"""Where a schedule may read: folders confined to IMPORT_SOURCE_ROOTS, files opened without
following a symlink."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import factories as f
from tests.conftest import Headers
from tests.core.test_errors import assert_problem
from tests.imports.files import MAPPING


async def template_id(client: httpx.AsyncClient, admin: Headers) -> int:
    machine = await f.machine(client, admin)
    template = await f.template(
        client, admin, machine["id"], sheet="Daten", mapping=MAPPING, timestamp_field="ts"
    )
    return int(template["id"])


@pytest.mark.parametrize(
    "uri", ["file:///srv/in%00box", "file:///srv/in\x00box"], ids=["encoded", "raw"]
)
async def test_a_nul_byte_in_a_folder_is_422(
    client_with: Any, admin: Headers, tmp_path: Path, uri: str
) -> None:
    client = client_with(import_source_roots=str(tmp_path))
    body = {
        "name": "nul",
        "template_id": await template_id(client, admin),
        "source_uri": uri,
        "cron": "*/5 * * * *",
    }
    problem = assert_problem(
        await client.post("/api/v1/import-schedules", json=body, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    assert "source_uri" in str(problem["errors"])
