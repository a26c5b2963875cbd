from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
from fastapi import FastAPI

from app.core.db import Database
from app.main import create_app
from tests.conftest import Headers, make_settings


async def test_request_lines_are_json_with_request_id_route_and_principal(
    tmp_path: Path, db: Database, admin: Headers
) -> None:
    log_file = tmp_path / "logs" / "app.log"
    app: FastAPI = create_app(make_settings(log_file=log_file, log_level="INFO"), database=db)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            ok = await client.get("/api/v1/api-keys/12345", headers=admin)
            denied = await client.get("/api/v1/auth/me")
        lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    finally:
        logging.getLogger().handlers.clear()  # the next app configures its own
    access = [line for line in lines if line.get("logger") == "workshop.access"]
    assert len(access) == 2
    first, second = access
    assert first["request_id"] == ok.headers["x-request-id"]
    assert first["route"] == "/api/v1/api-keys/{key_id}"
    assert first["path"] == "/api/v1/api-keys/12345"
    assert first["status"] == 404
    assert first["method"] == "GET"
    assert first["principal"].startswith("api_key:")
    assert isinstance(first["duration_ms"], float)
    assert second["status"] == 401
    assert second["principal"] is None
    assert second["request_id"] == denied.headers["x-request-id"]
    assert all("timestamp" in line and "level" in line for line in lines)
