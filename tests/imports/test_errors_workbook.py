"""The errors workbook of an import: built once by one parser run, kept beside the import's file,
gone with it."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from python_calamine import CalamineWorkbook
from sqlalchemy import update

from app.core.db import Database
from app.models import ImportRecord
from app.models.base import utcnow
from app.scheduler import runner
from tests.conftest import Headers
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.imports.conftest import stored_files, watching_parsers


async def with_row_errors(client: httpx.AsyncClient, admin: Headers, template_id: int) -> int:
    data = files.rows(40)
    for n in (3, 9, 27):
        data[n][1] = "twelve"
    response = await client.post(
        f"/api/v1/templates/{template_id}/imports",
        params={"on_error": "skip"},
        files={"file": ("errors.xlsx", files.xlsx(data))},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def kept_workbooks(root: Path) -> list[Path]:
    return [p for p in stored_files(root) if ".errors-" in p.name]


async def test_the_workbook_is_built_once_by_one_parser_and_kept(
    client_with: Any, admin: Headers, template: dict[str, Any], tmp_path: Path
) -> None:
    client = client_with(rate_limit_enabled=False)
    import_id = await with_row_errors(client, admin, template["id"])
    url = f"/api/v1/imports/{import_id}/errors.xlsx"
    async with watching_parsers() as seen:
        first = await asyncio.gather(*(client.get(url, headers=admin) for _ in range(10)))
    assert [r.status_code for r in first] == [200] * 10
    assert len({r.content for r in first}) == 1
    assert len(seen.pids) == 1, "parallel first calls wait for the one that builds it"
    (kept,) = kept_workbooks(tmp_path / "uploads")
    assert kept.read_bytes() == first[0].content

    async with watching_parsers() as seen:
        again = await client.get(url, headers=admin)
    assert again.status_code == 200 and again.content == first[0].content
    assert seen.pids == set(), "a kept workbook is read back, not parsed again"
    assert again.headers["content-disposition"].startswith(
        f'attachment; filename="import-{import_id}-errors.xlsx"'
    )
    rows = CalamineWorkbook.from_filelike(io.BytesIO(again.content)).get_sheet_by_index(0)
    table = rows.to_python()
    assert table[0][0] == "Row" and table[0][-1] == "Error"
    assert [r[0] for r in table[1:]] == [5, 11, 29]


async def test_the_kept_workbook_goes_with_the_import(
    client_with: Any, admin: Headers, template: dict[str, Any], tmp_path: Path
) -> None:
    client = client_with()
    root = tmp_path / "uploads"
    import_id = await with_row_errors(client, admin, template["id"])
    assert (await client.get(f"/api/v1/imports/{import_id}/errors.xlsx", headers=admin)).is_success
    assert len(kept_workbooks(root)) == 1
    assert (await client.delete(f"/api/v1/imports/{import_id}", headers=admin)).status_code == 204
    assert stored_files(root) == []


async def test_the_kept_workbook_expires_with_the_file(
    client_with: Any, admin: Headers, template: dict[str, Any], tmp_path: Path, db: Database
) -> None:
    client = client_with()
    root = tmp_path / "uploads"
    import_id = await with_row_errors(client, admin, template["id"])
    url = f"/api/v1/imports/{import_id}/errors.xlsx"
    assert (await client.get(url, headers=admin)).is_success
    long_ago = utcnow() - timedelta(days=400)
    await db.run(lambda s: s.execute(update(ImportRecord).values(created_at=long_ago)))
    app = client.app  # type: ignore[attr-defined]
    assert await runner.expire_files(db, app.state.storage, app.state.settings) == 1
    assert stored_files(root) == []
    assert_problem(await client.get(url, headers=admin), 410, "GONE")
