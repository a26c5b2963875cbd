"""The Firebase Auth emulator: allowed in development on loopback only (tests/core/test_config.py
has the refusals), said loudly at every start, and its tokens' expiry checked even though the SDK
skips it for them."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.core.db import Database
from app.main import create_app
from tests.conftest import make_settings
from tests.core.test_errors import assert_problem
from tests.firebase_emulator import PROJECT, Emulator


async def test_every_start_with_the_emulator_logs_a_warning(tmp_path: Path, db: Database) -> None:
    log_file = tmp_path / "app.log"
    settings = make_settings(
        firebase_auth_emulator_host="127.0.0.1:9099", log_file=log_file, log_level="INFO"
    )
    try:
        for _ in range(2):
            app = create_app(settings, database=db)
            async with app.router.lifespan_context(app):
                pass
        lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    finally:
        logging.getLogger().handlers.clear()  # the next app configures its own
    warnings = [line for line in lines if line["event"] == "firebase_emulator_in_use"]
    assert len(warnings) == 2
    assert all(w["level"] == "warning" and w["host"] == "127.0.0.1:9099" for w in warnings)


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return decoded


@pytest.fixture
async def emulated(
    firebase_emulator: Emulator, db: Database, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", firebase_emulator.host)
    settings = make_settings(
        firebase_project_id=PROJECT,
        firebase_auth_emulator_host=firebase_emulator.host,
        firebase_revocation_cache_seconds=0,
        auth_cache_seconds=0,
    )
    app = create_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c
    app.state.firebase.close()


async def test_an_expired_emulator_token_is_refused(
    emulated: httpx.AsyncClient, firebase_emulator: Emulator
) -> None:
    """The SDK takes an emulator token's claims as they are: no signature, no `exp`. An unsigned
    token with `exp: 1` and an admin role claim, for a real account, was accepted."""
    _, token = firebase_emulator.sign_up(f"forger-{time.time_ns()}@workshop.example")
    assert (await emulated.post("/api/v1/auth/verify", json={"id_token": token})).status_code == 200
    claims = {**_claims(token), "exp": 1, "iat": int(time.time()), "role": "admin"}
    forged = f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}."
    response = await emulated.post("/api/v1/auth/verify", json={"id_token": forged})
    body = assert_problem(response, 401, "UNAUTHORIZED")
    assert "expired" in str(body["detail"])
