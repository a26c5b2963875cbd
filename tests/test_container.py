"""The container files stay true to the app: no Docker engine or compose runs here, so what
`docker compose config` would catch is checked against the code (hadolint runs in `make lint`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from app.core.config import Settings

ROOT = Path(__file__).resolve().parents[1]
# Read by libraries (boto3, firebase-admin) or by the container's command, not by Settings.
OUTSIDE_SETTINGS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "WORKERS", "PATH"}
OUTSIDE_SETTINGS |= {"PYTHONUNBUFFERED"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    text = text[text.rindex("\nFROM ") :]  # the image that runs, not the build stage
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(re.findall(r'(\w+)="?([^"\s]*)"?', line[4:]))
    return env


def test_compose_references_resolve() -> None:
    spec = compose()
    services = spec["services"]
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown service {needed}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("/") or source in spec["volumes"], f"{name}: {volume}"


def test_app_environment_is_a_valid_configuration() -> None:
    """Every variable given to the app is one it reads, and together they make valid Settings
    (the image's own ENV first, then compose's, as Docker applies them)."""
    env = {**dockerfile_env(), **compose()["services"]["app"]["environment"]}
    unknown = {k for k in env if k.lower() not in Settings.model_fields} - OUTSIDE_SETTINGS
    assert not unknown, f"not read by the app: {sorted(unknown)}"
    values = {k.lower(): v for k, v in env.items() if k.lower() in Settings.model_fields}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    assert settings.storage_backend == "s3" and settings.database_url
    assert settings.rate_limit_storage_uri.startswith("redis://")


def test_image_runs_migrations_then_serves_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER [1-9][0-9]*$", text, re.M), "run as a numeric, non-root user"
    assert "workshop db upgrade && exec workshop serve" in text
    assert "HEALTHCHECK" in text and "/health" in text


def test_compose_publishes_on_loopback_only() -> None:
    """The stack runs in development with the Auth emulator, whose unsigned tokens anyone could
    forge: neither the API nor the emulator may be reachable from other machines."""
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith(("127.0.0.1:", "[::1]:")), f"{name} publishes {port}"


def test_compose_reaches_the_emulator_on_loopback() -> None:
    services = compose()["services"]
    app = services["app"]["environment"]
    assert app["ENVIRONMENT"] == "development"
    assert app["FIREBASE_AUTH_EMULATOR_HOST"].startswith("127.0.0.1:")
    assert services["firebase"]["network_mode"] == "service:app"
