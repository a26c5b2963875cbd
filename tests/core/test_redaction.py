"""Credentials stay out of the logs: a failing alert webhook (ALERT_WEBHOOK_URL, delivered as
the built-in webhook subscription) is logged by its origin only, and its stored error carries
none either (the configuration error's masking is in tests/core/test_config.py)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.core.config import redact_url, redact_urls, url_origin
from app.core.db import Database
from app.core.logger import configure_logging
from app.models import WebhookDelivery
from app.webhooks import sender
from app.webhooks import service as webhooks
from app.webhooks.events import EventType, emit
from tests.conftest import make_settings

SECRETS = ("hook-pass", "PATH-T0KEN", "QUERY-KEY")


@pytest.fixture
def failing_hook() -> Iterator[int]:
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("answer", ["500", "refused"])
async def test_a_failing_webhook_is_logged_without_its_credentials(
    tmp_path: Path, failing_hook: int, answer: str, db: Database
) -> None:
    port = failing_hook if answer == "500" else closed_port()
    url = f"http://hook-user:hook-pass@127.0.0.1:{port}/hooks/PATH-T0KEN?key=QUERY-KEY"
    log_file = tmp_path / "app.log"
    settings = make_settings(alert_webhook_url=url, alert_timeout_seconds=2, log_file=log_file)
    configure_logging(settings)
    try:
        await webhooks.sync_builtin(db, settings)
        await db.run(lambda s: emit(s, EventType.import_failed, "1", {"import_id": 1}))
        await sender.deliver_due(db, settings)
        text = log_file.read_text()
        stored = await db.run(lambda s: s.scalar(select(WebhookDelivery.last_error)), write=False)
    finally:
        logging.getLogger().handlers.clear()  # the next app configures its own
    line = next(json.loads(x) for x in text.splitlines() if "webhook_delivery_failed" in x)
    assert line["url"] == f"http://127.0.0.1:{port}"
    if answer == "500":
        assert line["error"] == "HTTP 500"
    else:
        assert line["error"].startswith("ConnectError")
    assert stored == line["error"]
    assert not any(secret in text or secret in stored for secret in SECRETS), text


def test_url_helpers_keep_what_helps_and_drop_credentials() -> None:
    assert url_origin("https://u:p@hooks.example:8443/x/TOKEN?k=v") == "https://hooks.example:8443"
    assert url_origin("http://[::1]:9/x") == "http://[::1]:9"
    assert url_origin("not a url") == "(not a URL)"
    assert redact_url("mysql://app:pw@db:3306/workshop") == "mysql://app:***@db:3306/workshop"
    assert redact_url("mysql://app@db/workshop") == "mysql://app@db/workshop"
    assert redact_url("LOUD") == "LOUD"
    assert redact_urls("failed for url 'https://h.example/T?k=v'.") == (
        "failed for url 'https://h.example'."
    )
