"""Security headers, HTTPS in production, trusted hosts, CORS, and no cookies anywhere."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from app.core.db import Database
from app.main import create_app
from tests.conftest import Headers, make_settings

PROD = {
    "environment": "production",
    "database_url": "postgresql://a@b/c",
    "firebase_project_id": "workshop-prod",
    "frontend_url": "https://workshop.example",
}


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({}, "ALLOWED_HOSTS"),
        ({"allowed_hosts": "*"}, "ALLOWED_HOSTS"),
        ({"allowed_hosts": "api.workshop.example", "trusted_proxies": "*"}, "TRUSTED_PROXIES"),
    ],
)
def test_production_will_not_redirect_to_any_host(values: dict[str, str], variable: str) -> None:
    """With ALLOWED_HOSTS=*, `Host: evil.example` comes back as `Location: https://evil.example/`;
    with TRUSTED_PROXIES=*, anyone chooses the scheme and the client address they appear with."""
    with pytest.raises(ValidationError, match=variable):
        make_settings(**PROD, **values)


async def test_security_headers_on_every_answer(client: httpx.AsyncClient, admin: Headers) -> None:
    for response in (
        await client.get("/health"),
        await client.get("/api/v1/machines", headers=admin),
        await client.get("/api/v1/machines"),
        await client.get("/nowhere"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in response.headers  # development
    docs = await client.get("/docs")
    assert "cdn.jsdelivr.net" in docs.headers["content-security-policy"]


async def test_production_redirects_to_https_and_sends_hsts(db: Database) -> None:
    app = create_app(make_settings(**PROD, allowed_hosts="api.workshop.example"), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.workshop.example") as c:
        plain = await c.get("/api/v1/machines?x=1")
        assert plain.status_code == 308
        assert plain.headers["location"] == "https://api.workshop.example/api/v1/machines?x=1"
        assert (await c.get("/health")).status_code == 200  # probes over plain HTTP
        proxied = await c.get("/health", headers={"X-Forwarded-Proto": "https"})
        assert proxied.headers["strict-transport-security"].startswith("max-age=")
        evil = await c.get("/health", headers={"Host": "evil.example"})
        assert evil.status_code == 400
        assert evil.headers["content-type"] == "application/problem+json"
        assert evil.json()["error_code"] == "INVALID_HOST"
        assert (await c.get("/docs", headers={"X-Forwarded-Proto": "https"})).status_code == 404


async def test_cors_only_for_the_frontend(client: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "if-match",
    }
    ok = await client.options(
        "/api/v1/machines", headers={"Origin": "http://localhost:3000", **preflight}
    )
    assert ok.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-credentials" not in ok.headers
    other = await client.options(
        "/api/v1/machines", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers


async def test_a_browser_may_read_the_headers_the_api_answers_with(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    """CORS hides every response header but a few from a page's script: the ones a client
    needs (the version to send back, where a new resource is, a file's name, when to retry,
    the request id to quote, the rate-limit budget) are exposed."""
    response = await client.get(
        "/api/v1/machines", headers={"Origin": "http://localhost:3000", **admin}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert exposed >= {
        "etag",
        "location",
        "content-disposition",
        "retry-after",
        "x-request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    }
    assert "x-ratelimit-remaining" in response.headers  # and it is there to read


async def test_no_cookies_anywhere(client: httpx.AsyncClient, admin: Headers) -> None:
    """Bearer credentials only: nothing sets a cookie, so there is no CSRF surface."""
    responses = [
        await client.get("/health"),
        await client.get("/health/status"),
        await client.get("/api/v1/auth/me", headers=admin),
        await client.get("/api/v1/auth/me"),
        await client.post("/api/v1/auth/verify", json={"id_token": "x"}),
        await client.post(
            "/api/v1/machines", json={"code": "C", "name": "c", "type": "TIG"}, headers=admin
        ),
        await client.get("/api/v1/workorders/export", headers=admin),
        await client.get("/docs"),
    ]
    assert all("set-cookie" not in r.headers for r in responses)
    assert not client.cookies
