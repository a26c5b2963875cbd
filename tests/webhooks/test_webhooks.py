"""Webhooks: the admin routes, signed deliveries to a real receiver on 127.0.0.1, retries with
backoff, refusal of addresses that are not public, and one delivery per event however many
processes notice it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core import clock
from app.core.config import Settings
from app.core.db import Database
from app.core.metrics import REGISTRY
from app.main import create_app
from app.models import IdempotencyKey, WebhookDelivery
from app.webhooks import scan, security, sender
from app.webhooks import service as webhooks
from app.webhooks.events import EventType, emit
from tests import factories as f
from tests.conftest import Headers, MakeKey, make_settings
from tests.webhooks.receiver import receiver

URL = "/api/v1/webhooks"
SECRET = "s3cret-for-the-tests-0123456789"


def hook_settings(**over: Any) -> Settings:
    values: dict[str, Any] = {
        "webhook_allow_private": True,
        "webhook_retry_base_seconds": 0,
        "webhook_timeout_seconds": 2,
        "rate_limit_enabled": False,
    }
    return make_settings(**(values | over))


@pytest.fixture
def settings_() -> Settings:
    return hook_settings()


@pytest.fixture
async def http(db: Database, settings_: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def subscribe(http: httpx.AsyncClient, admin: Headers, url: str, **over: Any) -> Any:
    body = {"name": f"hook {f.n()}", "url": url, "events": ["import.failed"], **over}
    return await f.post(http, admin, URL, body)


def retries() -> float:
    value = REGISTRY.get_sample_value("workshop_webhook_attempts_total", {"outcome": "retry"})
    return value or 0.0


async def deliveries(db: Database) -> list[WebhookDelivery]:
    rows = await db.run(
        lambda s: s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)), write=False
    )
    return list(rows)


# --- the routes -----------------------------------------------------------------------------


async def test_create_shows_the_secret_once(http: httpx.AsyncClient, admin: Headers) -> None:
    response = await http.post(
        URL,
        json={"name": "qa", "url": "https://hooks.example.com/x", "events": ["ping"]},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert response.headers["Location"] == f"{URL}/{created['id']}"
    assert response.headers["ETag"] == '"1"'
    again = await http.get(f"{URL}/{created['id']}", headers=admin)
    assert again.status_code == 200 and "secret" not in again.json()
    listed = (await http.get(URL, headers=admin, params={"q": "qa"})).json()
    assert [w["id"] for w in listed["items"]] == [created["id"]]
    assert all("secret" not in w for w in listed["items"])
    given = await subscribe(http, admin, "https://hooks.example.com/y", secret=SECRET)
    assert given["secret"] == SECRET
    events = (await http.get(f"{URL}/events", headers=admin)).json()
    assert {e["type"] for e in events} >= {"import.failed", "stock.reorder", "ping"}


async def test_a_retried_create_does_not_show_the_secret_again(
    http: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    """The answer with the secret is not kept for an Idempotency-Key replay (as a new API
    key's): the retry is told where the subscription is, without its secret."""
    body = {"name": "retried", "url": "https://hooks.example.com/r", "events": ["ping"]}
    keyed = {**admin, "Idempotency-Key": "hook-1"}
    first = await http.post(URL, json=body, headers=keyed)
    assert first.status_code == 201, first.text
    retry = await http.post(URL, json=body, headers=keyed)
    assert retry.status_code == 409
    assert retry.json()["error_code"] == "IDEMPOTENT_ANSWER_NOT_KEPT"
    assert retry.headers["Location"] == first.headers["Location"]
    assert first.json()["secret"] not in retry.text
    kept = await db.run(lambda s: s.scalar(select(IdempotencyKey.body)), write=False)
    assert kept is None


async def test_replace_patch_delete(http: httpx.AsyncClient, admin: Headers, db: Database) -> None:
    hook = await subscribe(http, admin, "https://hooks.example.com/a", secret=SECRET)
    path = f"{URL}/{hook['id']}"
    body = {"name": "renamed", "url": "https://hooks.example.com/b", "events": ["stock.reorder"]}
    put = await http.put(path, json=body, headers={**admin, "If-Match": '"1"'})
    assert put.status_code == 200, put.text
    assert put.json()["events"] == ["stock.reorder"] and put.headers["ETag"] == '"2"'
    stale = await http.patch(path, json={"active": False}, headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    patched = await http.patch(path, json={"active": False}, headers=admin)
    assert patched.status_code == 200 and patched.json()["active"] is False
    stored = await db.run(lambda s: webhooks.crud.get(s, webhooks.WebhookSubscription, hook["id"]))
    assert stored.secret == SECRET  # left out of PUT and PATCH: kept
    assert (await http.delete(path, headers=admin)).status_code == 204
    assert (await http.get(path, headers=admin)).status_code == 404
    feed = await http.get("/api/v1/deletions", params={"resource": "webhooks"}, headers=admin)
    assert [(d["resource"], d["id"]) for d in feed.json()["items"]] == [("webhooks", hook["id"])]
    for method in ("put", "patch", "delete"):
        kwargs = {"json": body} if method != "delete" else {}
        missing = await http.request(method.upper(), f"{URL}/987654", headers=admin, **kwargs)
        assert missing.status_code == 404, method


async def test_invalid_input_is_422_and_names_clash_409(
    http: httpx.AsyncClient, admin: Headers
) -> None:
    await subscribe(http, admin, "https://hooks.example.com/a", name="taken")
    clash = await http.post(
        URL,
        json={"name": "taken", "url": "https://hooks.example.com/b", "events": ["ping"]},
        headers=admin,
    )
    assert clash.status_code == 409 and clash.json()["error_code"] == "CONFLICT"
    bad = [
        {"url": "ftp://hooks.example.com/a"},
        {"url": "javascript:alert(1)"},
        {"url": "https:///no-host"},
        {"events": []},
        {"events": ["no.such.event"]},
        {"secret": "short"},
        {"id": 5},
    ]
    for change in bad:
        body = {"name": "n", "url": "https://hooks.example.com/a", "events": ["ping"], **change}
        response = await http.post(URL, json=body, headers=admin)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error_code"] == "VALIDATION_ERROR"
    deliveries = await http.get(f"{URL}/987654/deliveries", headers=admin)
    assert deliveries.status_code == 404
    wrong_status = await http.get(f"{URL}/1/deliveries?status=lost", headers=admin)
    assert wrong_status.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[fe80::1]/x",
        "http://0.0.0.0/x",
        "http://224.0.0.1/x",
        "http://[64:ff9b::a00:5]/x",  # NAT64 of 10.0.0.5
        "http://[2002:a00:5::1]/x",  # 6to4 of 10.0.0.5
        "http://[::10.0.0.5]/x",  # IPv4-compatible
    ],
)
async def test_private_addresses_are_refused_without_the_setting(
    db: Database, admin: Headers, url: str
) -> None:
    app = create_app(hook_settings(webhook_allow_private=False), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post(
            URL, json={"name": "inside", "url": url, "events": ["ping"]}, headers=admin
        )
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "url" and "WEBHOOK_ALLOW_PRIVATE" in error["message"]


async def test_a_public_address_is_accepted() -> None:
    settings = hook_settings(webhook_allow_private=False)
    target = await security.check("https://93.184.215.14:8443/hook?k=1", settings)
    assert target.url == "https://93.184.215.14:8443/hook?k=1"
    assert security.is_public(security.ipaddress.ip_address("2606:4700::1111"))


async def test_only_admins_manage_webhooks(
    http: httpx.AsyncClient, admin: Headers, make_key: MakeKey
) -> None:
    from app.auth.roles import Role

    hook = await subscribe(http, admin, "https://hooks.example.com/a")
    for role in (Role.viewer, Role.operator, Role.manager):
        headers = await make_key(role)
        calls = [
            ("GET", URL, None),
            ("GET", f"{URL}/events", None),
            ("POST", URL, {"name": "x", "url": "https://hooks.example.com/", "events": ["ping"]}),
            ("GET", f"{URL}/{hook['id']}", None),
            ("PATCH", f"{URL}/{hook['id']}", {"active": False}),
            ("DELETE", f"{URL}/{hook['id']}", None),
            ("GET", f"{URL}/{hook['id']}/deliveries", None),
            ("POST", f"{URL}/{hook['id']}/ping", None),
        ]
        for method, path, body in calls:
            response = await http.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (role, method, path)
            assert response.json()["required_permission"] == "webhooks:manage"
    assert (await http.get(URL)).status_code == 401


# --- deliveries -----------------------------------------------------------------------------


def verify_like_a_receiver(secret: str, header: str, body: bytes) -> bool:
    """The snippet of docs/Webhooks.md, spelt out."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    signed = f"{parts['t']}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


async def test_a_delivery_is_signed_and_verifies(
    http: httpx.AsyncClient, admin: Headers, db: Database, settings_: Settings
) -> None:
    with receiver(204) as hook:
        sub = await subscribe(http, admin, hook.url, secret=SECRET)
        await db.run(lambda s: emit(s, EventType.import_failed, "42", {"import_id": 42}))
        assert await sender.deliver_due(db, settings_) == 1
    (got,) = hook.received
    assert got.path == "/hooks/in"
    assert verify_like_a_receiver(SECRET, got.headers["Webhook-Signature"], got.body)
    assert security.verify(SECRET, got.headers["Webhook-Signature"], got.body, int(time.time()))
    assert not verify_like_a_receiver("another secret", got.headers["Webhook-Signature"], got.body)
    assert not security.verify(SECRET, got.headers["Webhook-Signature"], got.body + b" ", 0)
    body = json.loads(got.body)
    assert body["type"] == "import.failed" and body["data"] == {"import_id": 42}
    assert (
        got.headers["Webhook-Id"] == body["id"] and got.headers["Webhook-Event"] == "import.failed"
    )
    page = (await http.get(f"{URL}/{sub['id']}/deliveries", headers=admin)).json()
    (delivery,) = page["items"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["event_id"] == body["id"]
    assert delivery["log"][0]["status_code"] == 204 and delivery["log"][0]["duration_ms"] >= 0


async def test_a_500_is_retried_with_backoff_then_succeeds(
    http: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    # Backoffs long enough that a loaded machine's next call still falls inside them.
    settings = hook_settings(webhook_retry_base_seconds=1.5)
    retries_before = retries()
    with receiver(500, 503, 200) as hook:
        sub = await subscribe(http, admin, hook.url)
        await db.run(lambda s: emit(s, EventType.import_failed, "7", {"import_id": 7}))
        assert await sender.deliver_due(db, settings) == 1
        assert await sender.deliver_due(db, settings) == 0  # not due yet: 1.5 s backoff
        await asyncio.sleep(1.6)
        assert await sender.deliver_due(db, settings) == 1
        assert await sender.deliver_due(db, settings) == 0  # the second wait is 3 s
        await asyncio.sleep(3.1)
        assert await sender.deliver_due(db, settings) == 1
    retries_after = retries()
    assert len(hook.received) == 3
    assert len({r.headers["Webhook-Id"] for r in hook.received}) == 1  # the same event
    failed = await http.get(f"{URL}/{sub['id']}/deliveries?status=failed", headers=admin)
    assert failed.json()["items"] == []
    (delivery,) = (
        await http.get(f"{URL}/{sub['id']}/deliveries?status=delivered", headers=admin)
    ).json()["items"]
    assert [a["status_code"] for a in delivery["log"]] == [500, 503, 200]
    assert [a["error"] for a in delivery["log"]] == ["HTTP 500", "HTTP 503", None]
    assert sender.backoff(settings, 1) == 1.5 and sender.backoff(settings, 3) == 6.0
    assert retries_after - retries_before == 2


async def test_gives_up_after_the_last_attempt(
    http: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    settings = hook_settings(webhook_max_attempts=2)
    sub = await subscribe(http, admin, "http://127.0.0.1:9/closed")
    await db.run(lambda s: emit(s, EventType.import_failed, "1", {}))
    await sender.deliver_due(db, settings)
    await sender.deliver_due(db, settings)
    assert await sender.deliver_due(db, settings) == 0
    (delivery,) = (
        await http.get(f"{URL}/{sub['id']}/deliveries?status=failed", headers=admin)
    ).json()["items"]
    assert delivery["attempts"] == 2 and delivery["last_status_code"] is None
    assert delivery["last_error"].startswith("ConnectError")


async def test_the_address_is_checked_again_at_delivery(
    http: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    """Saved while private addresses were allowed (or resolving elsewhere: DNS rebinding),
    refused when the delivery is made without the setting; never sent."""
    with receiver(204) as hook:
        sub = await subscribe(http, admin, hook.url)
        await db.run(lambda s: emit(s, EventType.import_failed, "1", {}))
        await sender.deliver_due(db, hook_settings(webhook_allow_private=False))
    assert hook.received == []
    (delivery,) = (await http.get(f"{URL}/{sub['id']}/deliveries", headers=admin)).json()["items"]
    assert delivery["status"] == "failed" and "not public" in delivery["last_error"]


async def test_ping(http: httpx.AsyncClient, admin: Headers) -> None:
    with receiver(200) as hook:
        sub = await subscribe(http, admin, hook.url, active=False, secret=SECRET)
        response = await http.post(f"{URL}/{sub['id']}/ping", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "delivered" and response.json()["event"] == "ping"
    (got,) = hook.received
    assert verify_like_a_receiver(SECRET, got.headers["Webhook-Signature"], got.body)
    assert (await http.post(f"{URL}/987654/ping", headers=admin)).status_code == 404


async def test_inactive_or_unsubscribed_get_nothing(
    http: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    await subscribe(http, admin, "https://hooks.example.com/a", active=False)
    await subscribe(http, admin, "https://hooks.example.com/b", events=["stock.reorder"])
    await db.run(lambda s: emit(s, EventType.import_failed, "1", {}))
    assert await deliveries(db) == []


async def test_two_senders_on_two_engines_deliver_each_event_once(
    http: httpx.AsyncClient, admin: Headers, db: Database, settings_: Settings
) -> None:
    """Two processes' worth of engines on one database notice the same ten events at once and
    both send: the unique key keeps one row per event, the conditional claim one sender."""
    other = Database(settings_, db.engine.url)
    try:
        with receiver(204) as hook:
            await subscribe(http, admin, hook.url, events=["import.failed", "stock.reorder"])

            async def notice(database: Database) -> None:
                for i in range(10):
                    await database.run(
                        lambda s, i=i: emit(s, EventType.import_failed, str(i), {"i": i})
                    )

            await asyncio.gather(notice(db), notice(other))
            sent = await asyncio.gather(
                sender.deliver_due(db, settings_), sender.deliver_due(other, settings_)
            )
            await asyncio.gather(
                sender.deliver_due(db, settings_), sender.deliver_due(other, settings_)
            )
        assert sum(sent) == 10
        assert sorted(json.loads(r.body)["data"]["i"] for r in hook.received) == list(range(10))
        count = select(func.count()).select_from(WebhookDelivery)
        assert await db.run(lambda s: s.scalar(count), write=False) == 10
    finally:
        await other.dispose()


async def test_the_scan_finds_each_periodic_fact_once(
    http: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    today = clock.today()
    events = [e.value for e in scan.PERIODIC]
    sub = await subscribe(http, admin, "https://hooks.example.com/all", events=events)
    late = await f.work_order(http, admin, due_date=str(today - timedelta(days=3)))
    await f.work_order(http, admin, due_date=str(today + timedelta(days=3)))
    low = await f.item(http, admin, quantity=5, reorder_level=30)
    await f.item(http, admin, quantity=500, reorder_level=30)
    welder = await f.employee(http, admin)
    qualification = await f.post(
        http,
        admin,
        f"/api/v1/employees/{welder['id']}/qualifications",
        f.qualification_payload(
            issued_on=str(today - timedelta(days=60)),
            expires_on=str(today + timedelta(days=10)),
            last_confirmed_on=str(today - timedelta(days=5)),
        ),
    )
    gauge = await f.post(
        http,
        admin,
        "/api/v1/equipment",
        f.equipment_payload(next_calibration_due=str(today - timedelta(days=1))),
    )
    never = await f.machine(http, admin, validation_interval_days=365)
    await f.machine(http, admin)  # requires no validation
    await scan.scan(db, horizon_days=30)
    await scan.scan(db, horizon_days=30)  # the same facts again: nothing new
    found = {(d.event, d.event_key) for d in await deliveries(db)}
    assert found == {
        ("work_order.overdue", f"work_order.overdue:{late['id']}:{today - timedelta(days=3)}"),
        ("stock.reorder", f"stock.reorder:{low['id']}:{today}"),
        ("calibration.overdue", f"calibration.overdue:{gauge['id']}:{today - timedelta(days=1)}"),
        (
            "qualification.lapsing",
            f"qualification.lapsing:{qualification['id']}:expiring:{today + timedelta(days=10)}",
        ),
        ("validation.overdue", f"validation.overdue:{never['id']}:never"),
    }, found
    page = (
        await http.get(f"{URL}/{sub['id']}/deliveries?event=stock.reorder", headers=admin)
    ).json()
    data = page["items"][0]["payload"]["data"]
    assert data["item_id"] == low["item_id"] and data["quantity"] == 5


async def test_the_builtin_subscription_follows_alert_webhook_url(
    http: httpx.AsyncClient, admin: Headers, db: Database
) -> None:
    with receiver(204) as hook:
        settings = hook_settings(alert_webhook_url=hook.url, alert_webhook_secret=SECRET)
        await webhooks.sync_builtin(db, settings)
        await webhooks.sync_builtin(db, settings)  # again (another process): still one
        (builtin,) = (await http.get(URL, headers=admin)).json()["items"]
        assert builtin["builtin"] and builtin["events"] == ["import.failed", "schedule.failed"]
        path = f"{URL}/{builtin['id']}"
        for method, body in (
            ("PUT", {"name": "x", "url": hook.url, "events": ["ping"]}),
            ("PATCH", {"active": False}),
            ("DELETE", None),
        ):
            response = await http.request(method, path, json=body, headers=admin)
            assert response.status_code == 409, (method, response.text)
        data = {"schedule_id": 3, "file": "a.xlsx", "attempts": 3, "error": "bad"}
        await db.run(lambda s: emit(s, EventType.import_failed, "x", data))
        await sender.deliver_due(db, settings)
        (got,) = hook.received
        body = json.loads(got.body)
        assert body["event"] == "import_failed" and body["attempts"] == 3  # as before
        assert body["type"] == "import.failed"
        assert verify_like_a_receiver(SECRET, got.headers["Webhook-Signature"], got.body)
    await webhooks.sync_builtin(db, hook_settings())  # the setting is gone: switched off
    (builtin,) = (await http.get(URL, headers=admin)).json()["items"]
    assert builtin["active"] is False
