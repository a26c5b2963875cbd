from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import Settings, describe_settings_error, get_settings


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
        ({"rate_limit_read": "lots"}, "RATE_LIMIT_READ"),
        ({"rate_limit_storage_uri": "mongodb://x"}, "RATE_LIMIT_STORAGE_URI"),
        ({"storage_backend": "s3"}, "S3_BUCKET"),
    ],
)
def test_bad_values_name_the_variable(values: dict[str, object], variable: str) -> None:
    line = error_line(**values)
    assert "\n" not in line
    assert line.startswith("configuration error: ")
    assert variable in line


def test_production_accepts_a_server_database() -> None:
    s = settings(
        environment="production",
        database_url="postgresql://app@db/workshop",
        firebase_project_id="workshop-prod",
    )
    assert s.is_production
    assert not s.show_docs


@pytest.mark.parametrize(("variable", "value"), [("LOG_LEVEL", "LOUD"), ("ENVIRONMENT", "prod")])
def test_serve_refuses_a_bad_setting_with_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"configuration error: {variable}:")
