"""The parser process on its own: what it is given and what it sends back."""

from __future__ import annotations

import pytest

from app.imports import parsing
from app.imports.parsing import run_parser
from app.imports.protocol import ParserJob, Rows
from tests.conftest import make_settings

# Stands in for the parser: reads its job, answers with the names in its environment.
ENV_PROBE = """
import os, sys, orjson
sys.stdin.buffer.read()
for message in (
    {"type": "rows", "headers": sorted(os.environ), "rows": []},
    {"type": "end", "rows_total": 0, "rows_failed": 0},
):
    sys.stdout.buffer.write(orjson.dumps(message) + b"\\n")
"""
SECRETS = {
    "DATABASE_URL": "postgresql://workshop:hunter2@db/workshop",
    "DB_PASSWORD": "hunter2",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "AWS_SESSION_TOKEN": "token",
    "FIREBASE_SERVICE_ACCOUNT_PATH": "/run/secrets/firebase.json",
    "FIREBASE_PROJECT_ID": "workshop-prod",
    "GOOGLE_APPLICATION_CREDENTIALS": "/run/secrets/gcp.json",
    "ALERT_WEBHOOK_URL": "https://hooks.example/T0K3N",
}


async def test_the_parser_process_gets_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(parsing, "PARSER", ("-c", ENV_PROBE))
    job = ParserJob(path="/nonexistent.xlsx", sheet=None, header_row=1)
    names: list[str] = []
    async for message in run_parser(make_settings(), job):
        if isinstance(message, Rows):
            names = message.headers
    assert "PATH" in names
    assert not set(names) & set(SECRETS)
    assert set(names) <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "TMPDIR"}
