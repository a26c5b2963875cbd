"""Uploads end to end, on every backend: good files in both formats, and every rejection,
each leaving the database and the storage as they were."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth.roles import Role
from app.core.config import Settings
from app.core.db import Database
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem
from tests.imports import files
from tests.imports.conftest import Upload, counts, stored_files


def storage_root(settings: Settings) -> Path:
    return Path(settings.upload_dir)


@pytest.mark.parametrize("make", [files.xlsx, files.xls], ids=["xlsx", "xls"])
async def test_a_good_file_becomes_typed_entries(
    make: Any,
    upload: Upload,
    client: httpx.AsyncClient,
    admin: Headers,
    settings: Settings,
    db: Database,
    template: dict[str, Any],
) -> None:
    data = files.rows(20)
    data[3][4] = None  # an empty optional cell takes the mapping's default
    response = await upload(make(data), filename="cell1_2026-11-02.xlsx")
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["status"] == "completed"
    assert (record["rows_total"], record["rows_imported"], record["rows_failed"]) == (20, 20, 0)
    assert record["file_format"] == ("xlsx" if make is files.xlsx else "xls")
    assert record["original_filename"] == "cell1_2026-11-02.xlsx"
    assert record["source"] == "upload" and record["created_by"].startswith("api_key:")
    assert response.headers["location"] == f"/api/v1/imports/{record['id']}"
    fetched = (await client.get(response.headers["location"], headers=admin)).json()
    assert fetched == record

    page = (
        await client.get(
            "/api/v1/workshop-entries",
            params={"import_id": record["id"], "limit": 5},
            headers=admin,
        )
    ).json()
    assert page["total"] == 20
    first = page["items"][0]
    assert first["row_number"] == 2
    assert first["template_id"] == template["id"]
    # 06:00 in Ljubljana (CET) is 05:00 UTC; integers stay integers whatever the format.
    assert first["recorded_at"] == "2026-11-02T05:00:00Z"
    assert first["data"] == {
        "ts": "2026-11-02T05:00:00Z",
        "job": 100,
        "seam": "S0",
        "arc_time_s": 12.5,
        "wire_m": 0.0,
        "ok": False,
    }
    assert isinstance(first["data"]["job"], int)
    fourth = page["items"][3]
    assert fourth["data"]["wire_m"] == 0  # default
    assert len(stored_files(storage_root(settings))) >= 1


REJECTIONS = [
    ("png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "photo.xlsx", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("text", b"Timestamp;Job\n2026-11-01;1\n", "export.xlsx", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("plain zip", None, "archive.xlsx", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("truncated", None, "export.xlsx", 422, "CORRUPT_FILE"),
    ("empty", b"", "export.xlsx", 422, "EMPTY_FILE"),
    ("zip bomb", None, "export.xlsx", 422, "ZIP_BOMB"),
    ("entity expansion", None, "export.xlsx", 422, "XML_DTD_FORBIDDEN"),
    ("xxe", None, "export.xlsx", 422, "XML_DTD_FORBIDDEN"),
    ("dtd after 4 KiB", None, "export.xlsx", 422, "XML_DTD_FORBIDDEN"),
    ("vba project", None, "export.xlsx", 415, "MACROS_NOT_ALLOWED"),
    ("macro sheet", None, "export.xlsx", 415, "MACROS_NOT_ALLOWED"),
    ("macro-enabled type", None, "export.xlsm", 415, "MACROS_NOT_ALLOWED"),
    ("header only", None, "export.xlsx", 422, "IMPORT_ROWS_INVALID"),
    ("missing column", None, "export.xlsx", 422, "HEADER_MISMATCH"),
    ("wrong sheet", None, "export.xlsx", 422, "SHEET_NOT_FOUND"),
]


def hostile(name: str, content: bytes | None) -> bytes:
    import io
    import zipfile

    if content is not None:
        return content
    good = files.xlsx(files.rows(3))
    if name == "plain zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("readme.txt", "hello")
        return out.getvalue()
    if name == "truncated":
        return good[: len(good) // 2]
    if name == "zip bomb":
        return files.zip_bomb()
    if name == "entity expansion":
        return files.with_dtd("billion_laughs")
    if name == "xxe":
        return files.with_dtd("xxe")
    if name == "dtd after 4 KiB":
        return files.with_dtd("xxe", before=b"\n" * 3000 + b"<!--" + b" " * 3000 + b"-->")
    if name == "vba project":
        return files.with_macros("vba")
    if name == "macro sheet":
        return files.with_macros("macro sheet")
    if name == "macro-enabled type":
        return files.with_macros("content type")
    if name == "header only":
        return files.xlsx([])
    if name == "missing column":
        return files.xlsx(files.rows(3), header=["Timestamp", "Job", "Seam", "Arc", "Wire [m]"])
    return files.xlsx(files.rows(3), sheet="Sheet1")


@pytest.mark.parametrize(
    ("name", "content", "filename", "status", "code"), REJECTIONS, ids=[r[0] for r in REJECTIONS]
)
async def test_rejections_leave_everything_as_it_was(
    name: str,
    content: bytes | None,
    filename: str,
    status: int,
    code: str,
    upload: Upload,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
) -> None:
    files_before = stored_files(storage_root(settings))
    response = await upload(hostile(name, content), filename=filename)
    assert_problem(response, status, code)
    assert await counts(db) == (0, 0)
    assert stored_files(storage_root(settings)) == files_before
    assert (await client.get("/health")).status_code == 200


async def test_bad_rows_abort_writes_nothing_and_lists_every_bad_row(
    upload: Upload, db: Database, settings: Settings
) -> None:
    data = files.rows(10)
    data[2][1] = "twelve"  # Job: not an integer -> Excel row 4
    data[6][3] = None  # Arc time: required -> Excel row 8
    data[7][0] = "yesterday"  # Timestamp -> Excel row 9
    before = stored_files(storage_root(settings))
    response = await upload(files.xlsx(data))
    problem = assert_problem(response, 422, "IMPORT_ROWS_INVALID")
    assert problem["rows_total"] == 10 and problem["rows_failed"] == 3
    found = {(e["row"], e["column"]) for e in problem["row_errors"]}
    assert found == {(4, "Job"), (8, "Arc time [s]"), (9, "Timestamp")}
    assert all(e["message"] for e in problem["row_errors"])
    assert await counts(db) == (0, 0)
    assert stored_files(storage_root(settings)) == before


async def test_bad_rows_skip_imports_the_good_ones_and_offers_the_bad_to_fix(
    upload: Upload, client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    data = files.rows(10)
    data[2][1] = "twelve"
    data[6][3] = "=1+1"
    response = await upload(files.xlsx(data), on_error="skip")
    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["rows_total"], record["rows_imported"], record["rows_failed"]) == (10, 8, 2)
    assert [e["row"] for e in record["errors"]] == [4, 8]
    assert await counts(db) == (1, 8)

    workbook = await client.get(f"/api/v1/imports/{record['id']}/errors.xlsx", headers=admin)
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(workbook.content))
    rows = sheet.get_sheet_by_index(0).to_python()
    assert rows[0][0] == "Row" and rows[0][-1] == "Error"
    assert [r[0] for r in rows[1:]] == [4, 8]
    assert "Job" in rows[1][-1]
    assert rows[2][4] == "'=1+1", "formula-like text is neutralised in the workbook"


async def test_the_same_file_twice_is_409_unless_forced(upload: Upload, db: Database) -> None:
    content = files.xlsx(files.rows(5))
    first = (await upload(content)).json()
    problem = assert_problem(await upload(content), 409, "CONFLICT")
    assert problem["import_id"] == first["id"]
    assert str(first["id"]) in str(problem["detail"])
    assert await counts(db) == (1, 5)
    forced = await upload(content, force=True)
    assert forced.status_code == 201
    assert await counts(db) == (2, 10)


async def test_the_filename_is_never_a_path(
    upload: Upload, settings: Settings, client: httpx.AsyncClient, admin: Headers
) -> None:
    response = await upload(files.xlsx(files.rows(2)), filename="../../../etc/cron.d/evil.xlsx")
    assert response.status_code == 201
    assert response.json()["original_filename"] == "evil.xlsx"
    root = storage_root(settings)
    stored = stored_files(root)
    assert stored and all(p.is_relative_to(root) and "evil" not in p.name for p in stored)
    assert not Path("/etc/cron.d/evil.xlsx").exists()
    download = await client.get(f"/api/v1/imports/{response.json()['id']}/file", headers=admin)
    assert download.status_code == 200
    assert download.content == files.xlsx(files.rows(2)) or download.content[:2] == b"PK"
    assert download.headers["content-disposition"].startswith('attachment; filename="evil.xlsx"')


async def test_dry_run_reports_and_writes_nothing(
    upload: Upload, db: Database, settings: Settings
) -> None:
    data = files.rows(6)
    data[1][1] = "x"
    before = stored_files(storage_root(settings))
    response = await upload(files.xlsx(data), dry_run=True)
    assert response.status_code == 200
    report = response.json()
    assert (report["rows_total"], report["rows_valid"], report["rows_failed"]) == (6, 5, 1)
    assert report["errors"][0]["row"] == 3
    assert await counts(db) == (0, 0)
    assert stored_files(storage_root(settings)) == before


async def test_the_alias_and_the_template_checks(
    client: httpx.AsyncClient, admin: Headers, template: dict[str, Any], upload: Upload
) -> None:
    content = files.xlsx(files.rows(2))
    alias = await client.post(
        f"/upload/{template['id']}", files={"file": ("a.xlsx", content)}, headers=admin
    )
    assert alias.status_code == 201
    assert_problem(await upload(content, template_id=987654), 404, "NOT_FOUND")
    await client.patch(f"/api/v1/templates/{template['id']}", json={"active": False}, headers=admin)
    assert_problem(await upload(files.xlsx(files.rows(3))), 409, "CONFLICT")
    missing_file = await client.post(f"/api/v1/templates/{template['id']}/imports", headers=admin)
    assert_problem(missing_file, 422, "VALIDATION_ERROR")
    bad_option = await upload(content, on_error="ignore")
    assert_problem(bad_option, 422, "VALIDATION_ERROR")


async def test_permissions(upload: Upload, client: httpx.AsyncClient, make_key: MakeKey) -> None:
    viewer = await make_key(Role.viewer)
    operator = await make_key(Role.operator)
    manager = await make_key(Role.manager)
    content = files.xlsx(files.rows(2))
    assert_problem(await upload(content, headers=viewer), 403, "FORBIDDEN")
    assert_problem(
        await client.post("/api/v1/templates/1/imports", files={"file": ("a", content)}),
        401,
        "UNAUTHORIZED",
    )
    created = await upload(content, headers=operator)
    assert created.status_code == 201
    url = f"/api/v1/imports/{created.json()['id']}"
    assert (await client.get(url, headers=viewer)).status_code == 200
    assert (await client.get("/api/v1/imports", headers=viewer)).status_code == 200
    assert (await client.get(f"{url}/file", headers=viewer)).status_code == 200
    assert_problem(await client.delete(url, headers=operator), 403, "FORBIDDEN")
    assert (await client.delete(url, headers=manager)).status_code == 204


async def test_undo_an_import(
    upload: Upload, client: httpx.AsyncClient, admin: Headers, db: Database, settings: Settings
) -> None:
    keep = (await upload(files.xlsx(files.rows(4)))).json()
    undo = (await upload(files.xlsx(files.rows(6, start=dt.datetime(2026, 1, 1))))).json()
    before = stored_files(storage_root(settings))
    url = f"/api/v1/imports/{undo['id']}"
    assert_problem(
        await client.delete(url, headers={**admin, "If-Match": '"1"'}), 412, "PRECONDITION_FAILED"
    )
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert await counts(db) == (1, 4)
    assert len(stored_files(storage_root(settings))) == len(before) - 1
    assert_problem(await client.get(url, headers=admin), 404, "NOT_FOUND")
    assert_problem(await client.delete(url, headers=admin), 404, "NOT_FOUND")
    assert_problem(await client.get(f"{url}/file", headers=admin), 404, "NOT_FOUND")
    assert_problem(
        await client.get(f"/api/v1/imports/{keep['id']}/errors.xlsx", headers=admin),
        404,
        "NOT_FOUND",
    )
    # The undone file may be imported again.
    again = await upload(files.xlsx(files.rows(6, start=dt.datetime(2026, 1, 1))))
    assert again.status_code == 201


async def test_list_imports_filters(
    upload: Upload, client: httpx.AsyncClient, admin: Headers, template: dict[str, Any]
) -> None:
    first = (await upload(files.xlsx(files.rows(2)))).json()
    second = (await upload(files.xls(files.rows(3)))).json()
    listed = (await client.get("/api/v1/imports", headers=admin)).json()
    assert [r["id"] for r in listed["items"]] == [second["id"], first["id"]]
    by_template = await client.get(
        "/api/v1/imports",
        params={"template_id": template["id"], "status": "completed", "source": "upload"},
        headers=admin,
    )
    assert by_template.json()["total"] == 2
    assert (await client.get("/api/v1/imports", params={"status": "failed"}, headers=admin)).json()[
        "total"
    ] == 0
    assert_problem(
        await client.get("/api/v1/imports", params={"status": "done"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )


async def test_large_files_continue_in_the_background(
    client_with: Any, admin: Headers, template: dict[str, Any], db: Database
) -> None:
    client = client_with(import_sync_max_rows=10)
    response = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        files={"file": ("big.xlsx", files.xlsx(files.rows(60)))},
        headers=admin,
    )
    assert response.status_code == 202, response.text
    url = response.headers["location"]
    for _ in range(600):
        record = (await client.get(url, headers=admin)).json()
        if record["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert record["status"] == "completed"
    assert record["rows_imported"] == 60
    assert await counts(db) == (1, 60)


async def test_a_failed_background_import_keeps_its_record_and_file_and_releases_the_file(
    client_with: Any, admin: Headers, template: dict[str, Any], db: Database
) -> None:
    client = client_with(import_sync_max_bytes=0)
    data = files.rows(30)
    data[5][1] = "bad"
    content = files.xlsx(data)
    url_base = f"/api/v1/templates/{template['id']}/imports"
    response = await client.post(url_base, files={"file": ("big.xlsx", content)}, headers=admin)
    assert response.status_code == 202
    url = response.headers["location"]
    for _ in range(600):
        record = (await client.get(url, headers=admin)).json()
        if record["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert record["status"] == "failed"
    assert "1 of 30 rows are invalid" in record["message"]
    assert record["errors"][0]["row"] == 7
    assert record["rows_imported"] == 0
    assert await counts(db) == (1, 0)
    assert (await client.get(f"{url}/file", headers=admin)).status_code == 200
    retry = await client.post(
        url_base, params={"on_error": "skip"}, files={"file": ("big.xlsx", content)}, headers=admin
    )
    assert retry.status_code == 202  # the failed import released its claim on the file


@pytest.mark.parametrize(
    ("overrides", "size", "code"),
    [
        ({"import_parse_timeout": 0.001}, 50, "PARSE_TIMEOUT"),
        # 60k rows need ~60 MB in python-calamine, which aborts the process past its cap.
        ({"import_parser_max_memory": 40 * 1024 * 1024}, 60_000, "FILE_TOO_COMPLEX"),
    ],
    ids=["timeout", "memory"],
)
async def test_the_parser_limits_fail_cleanly(
    client_with: Any,
    admin: Headers,
    template: dict[str, Any],
    db: Database,
    overrides: dict[str, Any],
    size: int,
    code: str,
) -> None:
    client = client_with(**overrides, max_file_size=50_000_000)
    response = await client.post(
        f"/api/v1/templates/{template['id']}/imports",
        files={"file": ("a.xlsx", files.cached_xlsx(size))},
        headers=admin,
    )
    assert_problem(response, 422, code)
    assert await counts(db) == (0, 0)
    assert (await client.get("/health")).status_code == 200


async def test_oversize_is_413_with_or_without_content_length(
    client_with: Any, admin: Headers, template: dict[str, Any], db: Database
) -> None:
    client = client_with(max_file_size=20_000)
    url = f"/api/v1/templates/{template['id']}/imports"
    big = files.xlsx(files.rows(2000))
    assert len(big) > 20_000
    assert_problem(
        await client.post(url, files={"file": ("a.xlsx", big)}, headers=admin),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    boundary = "workshopboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(0, 200_000, 8192):
            yield b"x" * 8192
        yield tail

    response = await client.post(
        url,
        content=body(),
        headers={**admin, "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert await counts(db) == (0, 0)
    assert (await client.get("/health")).status_code == 200


async def test_a_stored_file_gone_missing_is_410_before_any_byte(
    upload: Upload, client: httpx.AsyncClient, admin: Headers, settings: Settings
) -> None:
    content = files.xlsx(files.rows(3))
    record = (await upload(content)).json()
    before = set(stored_files(storage_root(settings)))
    kept = (await upload(files.xlsx(files.rows(4)))).json()
    (path,) = set(stored_files(storage_root(settings))) - before
    path.unlink()
    body = assert_problem(
        await client.get(f"/api/v1/imports/{kept['id']}/file", headers=admin), 410, "GONE"
    )
    assert "missing from the file storage" in str(body["detail"])
    served = await client.get(f"/api/v1/imports/{record['id']}/file", headers=admin)
    assert served.status_code == 200 and served.content == content


async def test_uploads_are_limited_by_their_route_not_their_path(
    client_with: Any, admin: Headers, template: dict[str, Any]
) -> None:
    """A file route takes MAX_FILE_SIZE; every other body, MAX_REQUEST_BODY, whatever its path
    says (a query string naming /imports changes nothing)."""
    client = client_with(max_request_body=10_000, max_file_size=100_000)
    content = files.xlsx(files.rows(300))
    assert 10_000 < len(content) < 100_000
    for url in (f"/api/v1/templates/{template['id']}/imports", f"/upload/{template['id']}"):
        response = await client.post(url, files={"file": ("a.xlsx", content)}, headers=admin)
        assert response.status_code == 201, response.text
        content = files.xlsx(files.rows(301))
    big_json = {"name": "x" * 20_000, "code": "M-1"}
    assert_problem(
        await client.post("/api/v1/machines", json=big_json, headers=admin),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert_problem(
        await client.post("/api/v1/machines?next=/imports", json=big_json, headers=admin),
        413,
        "PAYLOAD_TOO_LARGE",
    )


async def test_a_download_name_outside_latin_1_is_sent_as_rfc_5987(
    upload: Upload, client: httpx.AsyncClient, admin: Headers
) -> None:
    """A name HTTP headers cannot carry as Latin-1 once made the download a 500."""
    record = (await upload(files.xlsx(files.rows(2)), filename="Schweiß€.xlsx")).json()
    assert record["original_filename"] == "Schweiß€.xlsx"
    download = await client.get(f"/api/v1/imports/{record['id']}/file", headers=admin)
    assert download.status_code == 200, download.text
    disposition = download.headers["content-disposition"]
    assert disposition.isascii()
    assert 'filename="Schwei.xlsx"' in disposition  # the fallback for old clients
    assert "filename*=UTF-8''Schwei%C3%9F%E2%82%AC.xlsx" in disposition


@pytest.mark.parametrize(
    ("make", "sent", "served"),
    [
        (files.xls, "report.bin", "report.xls"),
        (files.xlsx, "report.xls", "report.xlsx"),
        (files.xls, "report", "report.xls"),
        (files.xlsx, "Report.XLSX", "Report.XLSX"),
    ],
)
async def test_a_stored_file_is_served_with_the_extension_of_its_format(
    make: Any,
    sent: str,
    served: str,
    upload: Upload,
    client: httpx.AsyncClient,
    admin: Headers,
) -> None:
    record = (await upload(make(files.rows(2)), filename=sent)).json()
    assert record["original_filename"] == sent  # shown as sent
    download = await client.get(f"/api/v1/imports/{record['id']}/file", headers=admin)
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    assert f'filename="{served}"' in disposition
    assert f"filename*=UTF-8''{served}" in disposition


@pytest.mark.parametrize("size", [50_000, 300_000], ids=["under MAX_FILE_SIZE", "over"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_upload_without_the_right_is_refused_before_its_body_is_read(
    app_with: Any, make_key: MakeKey, template: dict[str, Any], chunked: bool, size: int
) -> None:
    """FastAPI reads a declared body before the dependencies that check the caller: an
    anonymous upload was read (up to MAX_FILE_SIZE, to disk) before its 401."""
    app = app_with(max_file_size=100_000)
    pulled = {"bytes": 0}

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        async def counted() -> Any:
            message = await receive()
            pulled["bytes"] += len(message.get("body", b""))
            return message

        await app(scope, counted, send)

    boundary = "workshopboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + b"x" * size + f"\r\n--{boundary}--\r\n".encode()

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(body), 16_384):
            yield body[start : start + 16_384]

    viewer = await make_key(Role.viewer)
    transport = httpx.ASGITransport(app=counting)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for headers, status, code in ((None, 401, "UNAUTHORIZED"), (viewer, 403, "FORBIDDEN")):
            for url in (f"/api/v1/templates/{template['id']}/imports", f"/upload/{template['id']}"):
                response = await client.post(
                    url,
                    content=chunks() if chunked else body,
                    headers={
                        **(headers or {}),
                        "content-type": f"multipart/form-data; boundary={boundary}",
                    },
                )
                assert_problem(response, status, code)
                assert pulled["bytes"] == 0, f"{url} read the body before answering {status}"
