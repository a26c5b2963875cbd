"""The work-order dossier of the seeded workshop, as JSON and as a PDF read back, on every
database."""

from __future__ import annotations

import io

import httpx
import pypdf
from fastapi import FastAPI

from app import seed
from app.auth.roles import Role
from app.core.db import Database
from tests.conftest import Headers, MakeKey
from tests.core.test_errors import assert_problem


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_the_dossier_of_a_seeded_work_order(
    db: Database, client: httpx.AsyncClient, admin: Headers, make_key: MakeKey, app: FastAPI
) -> None:
    storage = app.state.storage
    await db.run(lambda s: seed.seed(s, storage))
    orders = (
        await client.get("/api/v1/workorders", params={"sort_by": "id"}, headers=admin)
    ).json()
    order = orders["items"][0]
    url = f"/api/v1/workorders/{order['id']}/dossier"
    viewer = await make_key(Role.viewer)
    response = await client.get(url, headers=viewer)
    assert response.status_code == 200, response.text
    dossier = response.json()
    assert dossier["work_order"]["order_id"] == order["order_id"]
    welds = {w["reference"]: w for w in dossier["welds"]}
    assert set(welds) == {"W-1", "W-2", "W-3"}
    w1, w2 = welds["W-1"], welds["W-2"]
    assert w1["wps"]["number"] == "WPS-101" and w1["wps"]["status"] == "approved"
    assert w1["welder"]["name"] == "Ana Novak"
    assert w1["qualification"]["qualified"] is True
    cert = w1["qualification"]["certificate_number"]
    assert cert
    assert w1["conformance"]["runs"] == 3 and w1["conformance"]["passed"] >= 1
    assert any("current 275 A > 260 A" in text for text in w2["conformance"]["failing"])
    assert any("welder not qualified" in text for text in w2["conformance"]["failing"])
    assert w2["override"]["reason"].startswith("Retest booked")
    assert [lot["lot_number"] for lot in w2["lots"]] == ["H-23117", "H-23184"]
    codes = {d["code"] for i in w2["inspections"] for d in i["defects"]}
    assert codes == {2011, 401} and w2["inspections"][0]["quality_level"] == "C"
    assert {lot["lot_number"] for lot in dossier["lots"]} == {"H-23117", "H-23184"}
    assert dossier["audit"]["events"] >= 1  # the seed's writes, as the system
    (drawing,) = dossier["attachments"]
    assert drawing["filename"] == "weld map rev B.pdf"
    assert drawing["content_type"] == "application/pdf"

    as_pdf = await client.get(url, params={"format": "pdf"}, headers=viewer)
    assert as_pdf.status_code == 200, as_pdf.text
    assert as_pdf.headers["content-type"] == "application/pdf"
    assert as_pdf.headers["content-disposition"].startswith("attachment;")
    text = text_of(as_pdf.content)
    assert "WPS-101" in text and cert in text and order["order_id"] in text
    assert "weld map rev B.pdf" in text
    for code in codes:
        assert f"ISO 6520-1 {code}" in text
    assert "Potočnik" in text or "Novak" in text  # DejaVu: names print as written
    assert len(pypdf.PdfReader(io.BytesIO(as_pdf.content)).pages) >= 1

    accepted = await client.get(url, headers={**viewer, "Accept": "application/pdf"})
    assert accepted.headers["content-type"] == "application/pdf"
    assert_problem(
        await client.get("/api/v1/workorders/987654/dossier", headers=admin), 404, "NOT_FOUND"
    )
    assert_problem(
        await client.get(url, params={"format": "docx"}, headers=admin), 422, "VALIDATION_ERROR"
    )
    assert_problem(await client.get(url), 401, "UNAUTHORIZED")


async def test_a_long_dossier_breaks_into_pages(client: httpx.AsyncClient, admin: Headers) -> None:
    from tests import factories as f

    order = await f.work_order(client, admin)
    for _ in range(40):
        await f.post(client, admin, f"/api/v1/workorders/{order['id']}/welds", f.weld_payload())
    response = await client.get(
        f"/api/v1/workorders/{order['id']}/dossier", params={"format": "pdf"}, headers=admin
    )
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) > 2
    assert f"page 2 of {len(reader.pages)}" in reader.pages[1].extract_text()
