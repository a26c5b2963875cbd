from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings, describe_settings_error, get_settings

# A production configuration that passes every production rule; tests break one at a time.
PROD: dict[str, object] = {
    "environment": "production",
    "database_url": "postgresql://app@db/workshop",
    "firebase_project_id": "workshop-prod",
    "allowed_hosts": "api.workshop.example",
    "frontend_url": "https://workshop.example",
}


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def error_line(**values: object) -> str:
    with pytest.raises(ValidationError) as info:
        settings(**values)
    return describe_settings_error(info.value)


def test_defaults_are_the_embedded_setup() -> None:
    s = settings()
    assert s.environment == "development"
    assert str(s.sqlalchemy_url) == "sqlite+aiosqlite:///./data/workshop.db"
    assert s.show_docs


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"db_driver": "mysql", "db_user": "app", "db_password": "pw"},
            "mysql+asyncmy://app:***@127.0.0.1:3306/workshop",
        ),
        (
            {"db_driver": "mariadb", "db_host": "db", "db_port": 3307},
            "mysql+asyncmy://db:3307/workshop",
        ),
        (
            {"db_driver": "postgresql", "db_user": "app"},
            "postgresql+asyncpg://app@127.0.0.1:5432/workshop",
        ),
        ({"database_url": "postgres://u@h/x"}, "postgresql+asyncpg://u@h/x"),
        ({"database_url": "mysql+pymysql://u@h/x"}, "mysql+asyncmy://u@h/x"),
        ({"database_url": "sqlite:///tmp/x.db"}, "sqlite+aiosqlite:///tmp/x.db"),
    ],
)
def test_database_url_from_parts_or_url(values: dict[str, object], expected: str) -> None:
    assert str(settings(**values).sqlalchemy_url) == expected


def test_comma_separated_lists() -> None:
    s = settings(frontend_url="https://a.example, https://b.example")
    assert s.frontend_url == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"log_level": "LOUD"}, "LOG_LEVEL"),
        ({"environment": "prod"}, "ENVIRONMENT"),
        ({"db_port": 70000}, "DB_PORT"),
        ({"database_url": "not a url"}, "DATABASE_URL"),
        ({"database_url": "oracle://x/y"}, "DATABASE_URL"),
        ({"environment": "production"}, "DATABASE_URL"),
        (
            {"environment": "production", "database_url": "mysql://a@b/c", "frontend_url": "*"},
            "FRONTEND_URL",
        ),
        ({"environment": "production", "database_url": "mysql://a@b/c"}, "FIREBASE_PROJECT_ID"),
        (
            {
                "environment": "production",
                "database_url": "mysql://a@b/c",
                "firebase_project_id": "p",
                "firebase_auth_emulator_host": "127.0.0.1:9099",
            },
            "FIREBASE_AUTH_EMULATOR_HOST",
        ),
        ({**PROD, "allowed_hosts": "api.workshop.example,*"}, "ALLOWED_HOSTS"),
        ({**PROD, "allowed_hosts": None}, "ALLOWED_HOSTS"),
        ({**PROD, "trusted_proxies": "*"}, "TRUSTED_PROXIES"),
        ({**PROD, "frontend_url": "https://a.example,http://b.example"}, "FRONTEND_URL"),
        ({**PROD, "frontend_url": None}, "FRONTEND_URL"),
        ({**PROD, "firebase_check_revoked": False}, "FIREBASE_CHECK_REVOKED"),
        ({**PROD, "firebase_auth_emulator_host": "127.0.0.1:9099"}, "FIREBASE_AUTH_EMULATOR_HOST"),
        (
            {"environment": "staging", "firebase_auth_emulator_host": "127.0.0.1:9099"},
            "FIREBASE_AUTH_EMULATOR_HOST",
        ),
        ({"firebase_auth_emulator_host": "firebase:9099"}, "FIREBASE_AUTH_EMULATOR_HOST"),
        ({"firebase_auth_emulator_host": "10.0.0.5:9099"}, "FIREBASE_AUTH_EMULATOR_HOST"),
        (
            {"firebase_auth_emulator_host": "http://127.0.0.1:9099"},
            "FIREBASE_AUTH_EMULATOR_HOST",
        ),
        ({"metrics_token": "short"}, "METRICS_TOKEN"),
        ({"health_status_cache_seconds": -1}, "HEALTH_STATUS_CACHE_SECONDS"),
        ({"rate_limit_read": "lots"}, "RATE_LIMIT_READ"),
        ({"rate_limit_storage_uri": "mongodb://x"}, "RATE_LIMIT_STORAGE_URI"),
        ({"storage_backend": "s3"}, "S3_BUCKET"),
    ],
)
def test_bad_values_name_the_variable(values: dict[str, object], variable: str) -> None:
    # None stands for "not set": the default applies.
    line = error_line(**{k: v for k, v in values.items() if v is not None})
    assert "\n" not in line
    assert line.startswith("configuration error: ")
    assert variable in line


def test_production_accepts_a_server_database() -> None:
    s = settings(**PROD)
    assert s.is_production
    assert not s.show_docs
    assert not s.serve_metrics


def test_production_lists_every_problem_on_one_line() -> None:
    line = error_line(environment="production")
    assert "\n" not in line
    for variable in ("DATABASE_URL", "FIREBASE_PROJECT_ID", "FRONTEND_URL", "ALLOWED_HOSTS"):
        assert variable in line


@pytest.mark.parametrize("host", ["127.0.0.1:9099", "[::1]:9099", "localhost:9099"])
def test_development_may_use_the_emulator_on_loopback(host: str) -> None:
    assert settings(firebase_auth_emulator_host=host).firebase_auth_emulator_host == host
    assert settings(firebase_auth_emulator_host="").firebase_auth_emulator_host is None


def test_metrics_default_to_on_except_in_production() -> None:
    assert settings().serve_metrics
    assert not settings(metrics_enabled=False).serve_metrics
    assert settings(**PROD, metrics_enabled=True).serve_metrics
    # Empty in .env (as .env.example has it) means the default, not an error.
    assert settings(metrics_enabled="", metrics_token="").metrics_enabled is None
    assert settings(docs_enabled="").show_docs
    assert settings(metrics_token="").metrics_token is None
    assert settings(health_status_cache_seconds=0).health_status_cache_seconds == 0


@pytest.mark.parametrize(
    "url",
    [
        "oracle://app:hunter2-secret@db/workshop",
        "oracle://app:hunter2@secret@db/workshop",
        "app:hunter2-secret@db/workshop",
        "oracle://app@db/workshop?password=hunter2-secret",
    ],
)
def test_a_bad_database_url_is_shown_without_its_password(url: str) -> None:
    line = error_line(database_url=url)
    assert "DATABASE_URL" in line
    assert "hunter2" not in line and "secret" not in line
    assert "app" in line and "db/workshop" in line


def test_a_bad_secret_is_never_shown() -> None:
    line = error_line(metrics_token="hunter2")
    assert "METRICS_TOKEN" in line and "hunter2" not in line


@pytest.mark.parametrize(
    ("variable", "value", "env"),
    [
        ("LOG_LEVEL", "LOUD", {}),
        ("ENVIRONMENT", "prod", {}),
        ("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099", {"ENVIRONMENT": "staging"}),
        ("FIREBASE_AUTH_EMULATOR_HOST", "firebase:9099", {"ENVIRONMENT": "development"}),
    ],
)
def test_serve_refuses_a_bad_setting_with_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, env: dict[str, str]
) -> None:
    import uvicorn

    def served(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server started")  # instead of serving until killed

    monkeypatch.setattr(uvicorn, "run", served)
    monkeypatch.setenv(variable, value)
    for name, other in env.items():
        monkeypatch.setenv(name, other)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"configuration error: {variable}:")


def test_a_copy_of_env_example_starts_the_service(tmp_path: Path) -> None:
    """A newcomer's `cp .env.example .env`: empty optional values mean "not set"."""
    env = tmp_path / ".env"
    env.write_text((Path(__file__).resolve().parents[2] / ".env.example").read_text())
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.db_port is None and settings.log_file is None
    assert settings.firebase_service_account_path is None
