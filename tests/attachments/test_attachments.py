"""Attachments on every owner kind: upload, list, download, delete, each error, who may, and
the files going with their owner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.auth.roles import Role
from app.core.db import Database
from tests import factories as f
from tests.attachments.conftest import (
    ELF,
    JPEG,
    MZ,
    OWNER_KINDS,
    PDF,
    PNG,
    TIFF_BE,
    TIFF_LE,
    ZIP,
    attach,
    attachment_rows,
    make_owner,
    stored,
)
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem
from tests.imports import files


@pytest.mark.parametrize("kind", OWNER_KINDS)
async def test_upload_list_download_delete(
    kind: str, client: httpx.AsyncClient, admin: Headers, uploads: Path, db: Database
) -> None:
    owner = f"/api/v1/{kind}/{await make_owner(client, admin, kind)}"
    response = await attach(client, admin, owner, filename="cert 3.1.pdf")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == "cert 3.1.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["owner"] == kind and f"/api/v1/{kind}/{body['owner_id']}" == owner
    assert body["created_by"].startswith("api_key:")
    assert len(body["sha256"]) == 64 and body["created_at"]
    location = response.headers["location"]
    assert location == body["download_path"] == f"{owner}/attachments/{body['id']}"
    assert len(stored(uploads)) == 1

    listed = (await client.get(f"{owner}/attachments", headers=admin)).json()
    assert [a["id"] for a in listed["items"]] == [body["id"]] and listed["total"] == 1

    download = await client.get(location, headers=admin)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"cert 3.1.pdf\"; filename*=UTF-8''cert%203.1.pdf"
    )

    assert (await client.delete(location, headers=admin)).status_code == 204
    assert stored(uploads) == []
    assert await attachment_rows(db) == 0
    assert_problem(await client.get(location, headers=admin), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("content", "content_type", "name"),
    [
        (PDF, "application/pdf", "scan.pdf"),
        (JPEG, "image/jpeg", "weld.jpeg"),
        (PNG, "image/png", "weld.png"),
        (TIFF_LE, "image/tiff", "rt-film.tif"),
        (TIFF_BE, "image/tiff", "rt-film.tiff"),
    ],
)
async def test_every_type_by_its_bytes(
    content: bytes, content_type: str, name: str, client: httpx.AsyncClient, admin: Headers
) -> None:
    owner = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    # The declared type is ignored: only the bytes count.
    response = await attach(client, admin, owner, content, name, "text/plain")
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == content_type
    assert response.json()["filename"] == name  # an extension of its type is kept
    download = await client.get(response.headers["location"], headers=admin)
    assert download.content == content and download.headers["content-type"] == content_type


async def test_the_download_name_gets_the_extension_of_the_bytes(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    owner = f"/api/v1/equipment/{(await make_owner(client, admin, 'equipment'))}"
    response = await attach(client, admin, owner, PNG, "calibration.exe")
    assert response.json()["filename"] == "calibration.png"
    response = await attach(client, admin, owner, PDF, "no extension")
    assert response.json()["filename"] == "no extension.pdf"


async def test_names_are_never_paths_and_downloads_are_rfc_5987(
    client: httpx.AsyncClient, admin: Headers, uploads: Path
) -> None:
    owner = f"/api/v1/wps/{await make_owner(client, admin, 'wps')}"
    # By hand: httpx would percent-encode the control characters of the name.
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="file"; '
        + 'filename="../../etc/cert\x07\x1b ifikat čelik.pdf"'.encode()
        + b"\r\nContent-Type: application/pdf\r\n\r\n"
        + PDF
        + b"\r\n--b--\r\n"
    )
    multipart = {**admin, "Content-Type": "multipart/form-data; boundary=b"}
    response = await client.post(f"{owner}/attachments", content=raw, headers=multipart)
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "cert ifikat čelik.pdf"
    response = await attach(client, admin, owner, PDF, "C:\\Users\\ana\\..\\report.pdf")
    assert response.json()["filename"] == "report.pdf"
    # Stored under generated keys inside the upload folder, nothing named by the client.
    files_kept = stored(uploads)
    assert len(files_kept) == 2
    assert all(p.is_relative_to(uploads / "attachments") for p in files_kept)
    assert not any("cert" in p.name or "report" in p.name for p in files_kept)
    listed = (await client.get(f"{owner}/attachments", headers=admin)).json()["items"]
    download = await client.get(listed[0]["download_path"], headers=admin)
    assert download.headers["content-disposition"] == (
        'attachment; filename="cert ifikat elik.pdf"; '
        "filename*=UTF-8''cert%20ifikat%20%C4%8Delik.pdf"
    )


@pytest.mark.parametrize(
    ("content", "name"),
    [(ELF, "cert.pdf"), (MZ, "photo.jpg"), (ZIP, "drawing.png"), (b"plain text", "a.tif")],
    ids=["elf", "mz", "zip", "text"],
)
async def test_other_files_are_415_whatever_their_name(
    content: bytes,
    name: str,
    client: httpx.AsyncClient,
    admin: Headers,
    uploads: Path,
    db: Database,
) -> None:
    owner = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    response = await attach(client, admin, owner, content, name, "application/pdf")
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert stored(uploads) == [] and await attachment_rows(db) == 0


async def test_a_workbook_is_415(client: httpx.AsyncClient, admin: Headers) -> None:
    owner = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    response = await attach(client, admin, owner, files.xlsx(files.rows(2)), "cert.xlsx")
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_an_empty_file_or_no_file_is_422(client: httpx.AsyncClient, admin: Headers) -> None:
    owner = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    assert_problem(await attach(client, admin, owner, b""), 422, "EMPTY_FILE")
    no_file = await client.post(
        f"{owner}/attachments", files={"document": ("a.pdf", PDF)}, headers=admin
    )
    body = assert_problem(no_file, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["field"] == "file"  # type: ignore[index]


async def test_over_attachment_max_size_is_413(
    client_with: Callable[..., httpx.AsyncClient],
    client: httpx.AsyncClient,
    admin: Headers,
    uploads: Path,
    db: Database,
) -> None:
    owner = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    small = client_with(attachment_max_size=1000)
    at_limit = PDF + bytes(1000 - len(PDF))
    assert (await attach(small, admin, owner, at_limit)).status_code == 201
    # Over the file limit, within the body's envelope: refused while the file is copied.
    response = await attach(small, admin, owner, at_limit + b"x")
    body = assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert "ATTACHMENT_MAX_SIZE" in str(body["detail"])
    # Far over: refused by the body limit before the rest is read.
    assert_problem(
        await attach(small, admin, owner, PDF + bytes(200_000)), 413, "PAYLOAD_TOO_LARGE"
    )
    assert len(stored(uploads)) == 1 and await attachment_rows(db) == 1


async def test_the_attachment_limit_is_not_the_import_limit(
    client_with: Callable[..., httpx.AsyncClient], client: httpx.AsyncClient, admin: Headers
) -> None:
    owner = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    large = PDF + bytes(300_000)
    small_imports = client_with(max_file_size=1000, attachment_max_size=400_000)
    assert (await attach(small_imports, admin, owner, large)).status_code == 201
    small_attachments = client_with(max_file_size=400_000, attachment_max_size=1000)
    assert_problem(await attach(small_attachments, admin, owner, large), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("kind", ["machines", "qualifications", "welds"])
async def test_unknown_owner_is_404(kind: str, client: httpx.AsyncClient, admin: Headers) -> None:
    owner = f"/api/v1/{kind}/987654"
    assert_problem(await attach(client, admin, owner), 404, "NOT_FOUND")
    assert_problem(await client.get(f"{owner}/attachments", headers=admin), 404, "NOT_FOUND")
    assert_problem(await client.get(f"{owner}/attachments/1", headers=admin), 404, "NOT_FOUND")
    assert_problem(await client.delete(f"{owner}/attachments/1", headers=admin), 404, "NOT_FOUND")


async def test_an_attachment_is_found_only_through_its_owner(
    client: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    machine = (await f.machine(client, admin))["id"]
    other = (await f.machine(client, admin))["id"]
    response = await attach(client, admin, f"/api/v1/machines/{machine}")
    aid = response.json()["id"]
    equipment = await make_owner(client, admin, "equipment")
    for wrong in (
        f"/api/v1/machines/{other}/attachments/{aid}",  # another machine
        f"/api/v1/equipment/{equipment}/attachments/{aid}",  # another kind of owner
        f"/api/v1/machines/{machine}/attachments/{aid + 1000}",  # no such attachment
    ):
        assert_problem(await client.get(wrong, headers=admin), 404, "NOT_FOUND")
        assert_problem(await client.delete(wrong, headers=admin), 404, "NOT_FOUND")
    listed = await client.get(f"/api/v1/machines/{other}/attachments", headers=admin)
    assert listed.json()["items"] == []
    assert await attachment_rows(db) == 1


async def test_a_file_gone_from_the_storage_is_410(
    client: httpx.AsyncClient, admin: Headers, uploads: Path
) -> None:
    owner = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    location = (await attach(client, admin, owner)).headers["location"]
    (kept,) = stored(uploads)
    kept.unlink()
    assert_problem(await client.get(location, headers=admin), 410, "GONE")
    assert (await client.delete(location, headers=admin)).status_code == 204


async def test_if_match_guards_a_delete(client: httpx.AsyncClient, admin: Headers) -> None:
    owner = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    location = (await attach(client, admin, owner)).headers["location"]
    stale = await client.delete(location, headers={**admin, "If-Match": '"7"'})
    assert_problem(stale, 412, "PRECONDITION_FAILED")
    assert (await client.delete(location, headers={**admin, "If-Match": '"1"'})).status_code == 204


async def test_who_may(client: httpx.AsyncClient, admin: Headers, make_key: MakeKey) -> None:
    owner = f"/api/v1/inspections/{await make_owner(client, admin, 'inspections')}"
    viewer, operator, manager = [
        await make_key(role) for role in (Role.viewer, Role.operator, Role.manager)
    ]
    assert_problem(await attach(client, {}, owner), 401, "UNAUTHORIZED")
    refused = assert_problem(await attach(client, viewer, owner), 403, "FORBIDDEN")
    assert refused["required_permission"] == "attachments:upload"
    uploaded = await attach(client, operator, owner, JPEG, "porosity.jpg")
    assert uploaded.status_code == 201, uploaded.text
    location = uploaded.headers["location"]
    assert (await client.get(location, headers=viewer)).status_code == 200
    assert (await client.get(f"{owner}/attachments", headers=viewer)).status_code == 200
    assert_problem(await client.get(location), 401, "UNAUTHORIZED")
    refused = assert_problem(await client.delete(location, headers=operator), 403, "FORBIDDEN")
    assert refused["required_permission"] == "resources:write"
    assert (await client.delete(location, headers=manager)).status_code == 204


async def test_deleting_the_owner_deletes_its_attachments(
    client: httpx.AsyncClient, admin: Headers, uploads: Path, db: Database
) -> None:
    machine = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    keep = f"/api/v1/machines/{(await f.machine(client, admin))['id']}"
    await attach(client, admin, machine, PDF, "calibration.pdf")
    await attach(client, admin, machine, PNG, "plate.png")
    await attach(client, admin, keep, PDF, "validation.pdf")
    assert len(stored(uploads)) == 3
    assert (await client.delete(machine, headers=admin)).status_code == 204
    assert len(stored(uploads)) == 1 and await attachment_rows(db) == 1
    assert (await client.get(f"{keep}/attachments", headers=admin)).json()["total"] == 1


async def test_a_work_order_takes_its_welds_attachments_along(
    client: httpx.AsyncClient, admin: Headers, uploads: Path, db: Database
) -> None:
    order = (await f.work_order(client, admin))["id"]
    weld = await f.post(client, admin, f"/api/v1/workorders/{order}/welds", f.weld_payload())
    await attach(client, admin, f"/api/v1/workorders/{order}", PDF, "drawing.pdf")
    await attach(client, admin, f"/api/v1/welds/{weld['id']}", PDF, "weld map.pdf")
    other = await make_owner(client, admin, "welds")  # a weld of another order stays
    await attach(client, admin, f"/api/v1/welds/{other}", PDF)
    assert (await client.delete(f"/api/v1/workorders/{order}", headers=admin)).status_code == 204
    assert len(stored(uploads)) == 1 and await attachment_rows(db) == 1


async def test_a_qualification_goes_with_its_employee_or_alone(
    client: httpx.AsyncClient, admin: Headers, uploads: Path, db: Database
) -> None:
    employee = (await f.employee(client, admin))["id"]
    url = f"/api/v1/employees/{employee}/qualifications"
    first, second = [await f.post(client, admin, url, f.qualification_payload()) for _ in "ab"]
    for qualification in (first, second):
        response = await attach(client, admin, f"/api/v1/qualifications/{qualification['id']}")
        assert response.status_code == 201, response.text
    assert (await client.delete(f"{url}/{first['id']}", headers=admin)).status_code == 204
    assert len(stored(uploads)) == 1 and await attachment_rows(db) == 1
    assert (await client.delete(f"/api/v1/employees/{employee}", headers=admin)).status_code == 204
    assert stored(uploads) == [] and await attachment_rows(db) == 0


async def test_an_owner_that_may_not_go_keeps_its_attachments(
    client: httpx.AsyncClient, admin: Headers, uploads: Path, db: Database
) -> None:
    machine = (await f.machine(client, admin))["id"]
    await f.work_order(client, admin, machine_id=machine)  # refers to the machine: 409
    await attach(client, admin, f"/api/v1/machines/{machine}")
    response = await client.delete(f"/api/v1/machines/{machine}", headers=admin)
    assert_problem(response, 409, "CONFLICT")
    assert len(stored(uploads)) == 1 and await attachment_rows(db) == 1


async def test_an_attachment_and_its_delete_are_in_the_audit_trail(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    owner = f"/api/v1/machines/{await make_owner(client, admin, 'machines')}"
    made = (await attach(client, admin, owner, filename="validation.pdf")).json()
    deleted = await client.delete(f"{owner}/attachments/{made['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    trail = await client.get(
        "/api/v1/audit",
        params={"resource": "attachments", "resource_id": str(made["id"]), "order": "asc"},
        headers=admin,
    )
    events = trail.json()["items"]
    assert [e["action"] for e in events] == ["create", "delete"]
    assert events[0]["changes"]["filename"] == [None, "validation.pdf"]
    assert "storage_key" not in events[0]["changes"]  # where the file lies is not history
