"""Real signature checks (the emulator signs nothing): tokens signed with a locally made RSA key
whose certificate a loopback HTTP server publishes in Google's format."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from app.core.db import Database
from app.main import create_app
from tests.conftest import make_settings
from tests.core.test_errors import assert_problem

PROJECT = "workshop-prod-like"


def keypair(kid: str) -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kid)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def signing() -> Iterator[dict[str, Any]]:
    key, cert = keypair("key-1")
    intruder, _ = keypair("key-1")  # same kid, different key: a forgery
    body = json.dumps({"key-1": cert}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=3600")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {
        "key": key,
        "intruder": intruder,
        "url": f"http://127.0.0.1:{server.server_address[1]}/certs",
    }
    server.shutdown()


TIMES = ("iat", "exp", "auth_time")


def token(key: Any, **overrides: Any) -> str:
    """A token signed with `key`; an override of a time claim is seconds from now (worked out
    here, when the token is made: the suite may reach a test long after it was collected)."""
    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "sub": "uid-123",
        "user_id": "uid-123",
        "auth_time": now - 10,
        "iat": now - 10,
        "exp": now + 3600,
        "email": "ana@workshop.example",
        "email_verified": True,
        "firebase": {"sign_in_provider": "password"},
    }
    claims.update({k: now + v if k in TIMES else v for k, v in overrides.items()})
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "key-1"})


@pytest.fixture
async def client(
    signing: dict[str, Any], db: Database, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    settings = make_settings(
        firebase_project_id=PROJECT, firebase_certs_url=signing["url"], firebase_check_revoked=False
    )
    app = create_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c
    app.state.firebase.close()


async def me(client: httpx.AsyncClient, jwt_token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {jwt_token}"})


async def test_a_properly_signed_token_is_accepted(
    client: httpx.AsyncClient, signing: dict[str, Any]
) -> None:
    response = await me(client, token(signing["key"]))
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "ana@workshop.example"


@pytest.mark.parametrize(
    ("case", "overrides", "signer"),
    [
        ("forged signature", {}, "intruder"),
        ("expired", {"iat": -7200, "exp": -3600}, "key"),
        ("wrong audience", {"aud": "someone-elses-project"}, "key"),
        ("wrong issuer", {"iss": "https://securetoken.google.com/someone-else"}, "key"),
        ("no subject", {"sub": ""}, "key"),
        ("issued in the future", {"iat": +600}, "key"),
    ],
)
async def test_bad_tokens_are_refused(
    client: httpx.AsyncClient,
    signing: dict[str, Any],
    case: str,
    overrides: dict[str, Any],
    signer: str,
) -> None:
    assert_problem(await me(client, token(signing[signer], **overrides)), 401, "UNAUTHORIZED")


async def test_unsigned_token_is_refused_outside_the_emulator(client: httpx.AsyncClient) -> None:
    unsigned = jwt.encode({"sub": "x", "aud": PROJECT}, key=None, algorithm="none")
    assert_problem(await me(client, unsigned), 401, "UNAUTHORIZED")


async def test_keys_that_cannot_be_fetched_are_503(
    signing: dict[str, Any], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    settings = make_settings(
        firebase_project_id=PROJECT,
        firebase_certs_url="http://127.0.0.1:9/certs",
        firebase_check_revoked=False,
        firebase_timeout_seconds=3,
    )
    app = create_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await me(c, token(signing["key"]))
    app.state.firebase.close()
    assert_problem(response, 503, "AUTH_UNAVAILABLE")


async def test_revocation_checks_without_credentials_are_503_not_500(
    signing: dict[str, Any], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # no cloud metadata server here
    settings = make_settings(firebase_project_id=PROJECT, firebase_certs_url=signing["url"])
    app = create_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await me(c, token(signing["key"]))
    app.state.firebase.close()
    assert_problem(response, 503, "AUTH_UNAVAILABLE")
