"""Settings from the environment and `.env`, validated once at start-up.

Every variable is listed in `.env.example`. A bad value stops the process with one line that
names the variable (see `describe_settings_error`), never a traceback.
"""

from __future__ import annotations

import ipaddress
import re
import typing
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

Environment = Literal["development", "staging", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
DbDriver = Literal["sqlite", "mysql", "mariadb", "postgresql"]
CommaList = Annotated[list[str], NoDecode]

# Sync or bare driver names people paste from other tools, mapped to the async drivers we ship.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "mysql": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


def app_version() -> str:
    try:
        return version("welding-workshop")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0.0.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_default=True
    )

    environment: Environment = "development"
    debug: bool = False
    log_level: LogLevel = "INFO"
    log_file: Path | None = None
    log_file_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    log_file_backups: int = Field(default=5, ge=0)
    # The workshop's days (dashboards, date filters, day totals, "today"): an IANA name.
    workshop_timezone: str = "UTC"

    database_url: str | None = None
    db_driver: DbDriver = "sqlite"
    db_host: str = "127.0.0.1"
    db_port: int | None = Field(default=None, gt=0, lt=65536)
    db_name: str = "workshop"
    db_user: str | None = None
    db_password: SecretStr | None = None
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    db_busy_timeout_ms: int = Field(default=15_000, ge=0)
    db_retry_attempts: int = Field(default=3, ge=1, le=10)

    storage_backend: Literal["local", "s3"] = "local"
    upload_dir: Path = Path("./data/uploads")
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    s3_presign_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)

    max_file_size: int = Field(default=10 * 1024 * 1024, gt=0)
    attachment_max_size: int = Field(default=25 * 1024 * 1024, gt=0)
    import_allowed_formats: CommaList = Field(default_factory=lambda: ["xlsx", "xls"])
    import_max_uncompressed_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    import_max_compression_ratio: float = Field(default=300.0, gt=1)
    import_max_zip_entries: int = Field(default=10_000, gt=0)
    import_parser_max_memory: int = Field(default=1024 * 1024 * 1024, ge=32 * 1024 * 1024)
    import_parse_timeout: float = Field(default=600.0, gt=0)
    import_sync_max_bytes: int = Field(default=2 * 1024 * 1024, ge=0)
    import_sync_max_rows: int = Field(default=20_000, ge=0)
    import_max_errors: int = Field(default=1000, ge=1)
    import_chunk_rows: int = Field(default=5000, ge=100)
    import_max_cell_chars: int = Field(default=2000, ge=1, le=32767)
    import_message_max_bytes: int = Field(default=8 * 1024 * 1024, ge=64 * 1024)
    import_max_parsers: int = Field(default=2, ge=1)
    import_parser_wait_seconds: float = Field(default=30.0, ge=0)
    import_progress_seconds: float = Field(default=1.0, ge=0, le=60)

    firebase_project_id: str | None = None
    firebase_service_account_path: Path | None = None
    firebase_auth_emulator_host: str | None = None
    firebase_check_revoked: bool = True
    firebase_revocation_cache_seconds: float = Field(default=60.0, ge=0)
    firebase_clock_skew_seconds: int = Field(default=5, ge=0, le=60)
    firebase_timeout_seconds: float = Field(default=5.0, gt=0)
    firebase_certs_url: str | None = None
    admin_emails: CommaList = Field(default_factory=list)
    firebase_allowed_domains: CommaList = Field(default_factory=list)
    firebase_default_role: Literal["viewer", "operator", "manager", "admin"] = "viewer"

    auth_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    list_total_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    rate_limit_enabled: bool = True
    rate_limit_storage_uri: str = "memory://"
    rate_limit_prefix: str = "workshop"
    rate_limit_read: str = "300/minute"
    rate_limit_write: str = "60/minute"
    rate_limit_upload: str = "10/minute"
    rate_limit_auth: str = "30/minute"

    scheduler_enabled: bool = True
    scheduler_sync_seconds: float = Field(default=30.0, gt=0)
    import_source_roots: CommaList = Field(default_factory=lambda: ["./data/inbox"])
    import_source_buckets: CommaList = Field(default_factory=list)
    import_settle_seconds: float = Field(default=10.0, ge=0)
    import_retry_base_seconds: float = Field(default=30.0, ge=0)
    import_running_timeout_seconds: float = Field(default=2 * 3600.0, gt=0)
    file_retention_days: int = Field(default=365, ge=1)
    deletions_keep_days: int = Field(default=30, ge=1)
    alert_webhook_url: str | None = None
    alert_timeout_seconds: float = Field(default=5.0, gt=0)
    alert_webhook_secret: SecretStr | None = None
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_retry_base_seconds: float = Field(default=30.0, ge=0)
    webhook_retry_max_seconds: float = Field(default=6 * 3600.0, ge=0)
    webhook_deliver_seconds: float = Field(default=10.0, gt=0)
    webhook_scan_seconds: float = Field(default=900.0, gt=0)
    webhook_horizon_days: int = Field(default=30, ge=1, le=3650)
    webhook_dns_timeout_seconds: float = Field(default=3.0, gt=0, le=60)

    frontend_url: CommaList = Field(default_factory=lambda: ["http://localhost:3000"])
    allowed_hosts: CommaList = Field(default_factory=lambda: ["*"])
    trusted_proxies: CommaList = Field(default_factory=lambda: ["127.0.0.1"])
    max_request_body: int = Field(default=1024 * 1024, gt=0)
    idempotency_keep_hours: float = Field(default=24.0, gt=0)
    docs_enabled: bool | None = None
    metrics_enabled: bool | None = None
    metrics_token: SecretStr | None = None
    health_status_cache_seconds: float = Field(default=5.0, ge=0, le=300)

    @field_validator(
        "frontend_url",
        "trusted_proxies",
        "import_allowed_formats",
        "admin_emails",
        "allowed_hosts",
        "import_source_roots",
        "import_source_buckets",
        "firebase_allowed_domains",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: object) -> object:
        # `.env.example` leaves optional settings empty to mean "not set" (or the default for
        # the environment): an empty value of a setting whose default is None is dropped.
        if not isinstance(data, dict):
            return data
        optional = {name for name, info in cls.model_fields.items() if info.default is None}
        return {k: v for k, v in data.items() if not (v == "" and k.lower() in optional)}

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("use at least 16 random characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("firebase_auth_emulator_host")
    @classmethod
    def _loopback_emulator(cls, value: str | None) -> str | None:
        if not value:
            return None
        # The SDK trusts whatever answers there and skips every signature and time check, so
        # it must be this machine, never a name another host could answer for.
        if not _is_loopback(value):
            raise ValueError(
                "the emulator must be on this machine: 127.0.0.1:PORT, [::1]:PORT or localhost:PORT"
            )
        return value

    @field_validator("workshop_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from app.core.clock import load

        load(value)  # ValueError names an unknown zone (or missing zone data)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            url = make_url(value)
        except Exception as exc:
            raise ValueError("not a database URL (e.g. postgresql://user@host/db)") from exc
        if url.get_backend_name() not in ("sqlite", "mysql", "mariadb", "postgres", "postgresql"):
            raise ValueError("backend must be sqlite, mysql/mariadb or postgresql")
        return value

    @field_validator("rate_limit_read", "rate_limit_write", "rate_limit_upload", "rate_limit_auth")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate like '300/minute'") from None
        return value

    @field_validator("rate_limit_storage_uri")
    @classmethod
    def _rate_store(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("use memory:// or redis://host:port/db")
        return value

    @field_validator("import_allowed_formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        unknown = {v.lower().lstrip(".") for v in value} - {"xlsx", "xls"}
        if unknown:
            raise ValueError(f"unknown format(s) {sorted(unknown)}; allowed: xlsx, xls")
        return [v.lower().lstrip(".") for v in value]

    @model_validator(mode="after")
    def _environment_rules(self) -> Settings:
        problems = []
        if self.storage_backend == "s3" and not self.s3_bucket:
            problems.append("S3_BUCKET: required when STORAGE_BACKEND=s3")
        if self.firebase_auth_emulator_host and self.environment != "development":
            problems.append(
                "FIREBASE_AUTH_EMULATOR_HOST: the emulator's tokens are unsigned (anyone can "
                f"forge an admin); only ENVIRONMENT=development may use it, not {self.environment}"
            )
        if self.environment == "production":
            problems += self._production_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _production_problems(self) -> list[str]:
        problems = []
        if self.sqlalchemy_url.get_backend_name() == "sqlite":
            problems.append(
                "DATABASE_URL: production needs MySQL/MariaDB or PostgreSQL, not SQLite"
            )
        if not self.firebase_project_id:
            problems.append("FIREBASE_PROJECT_ID: production needs Firebase sign-in")
        if not self.firebase_check_revoked:
            problems.append(
                "FIREBASE_CHECK_REVOKED: production cannot turn it off (a revoked sign-in or a "
                "disabled user would keep working until the token expires)"
            )
        if "*" in self.frontend_url:
            problems.append("FRONTEND_URL: production refuses the wildcard origin '*'")
        elif plain := [o for o in self.frontend_url if not o.lower().startswith("https://")]:
            problems.append(f"FRONTEND_URL: production allows https:// origins only (got {plain})")
        if "*" in self.allowed_hosts:
            # Any Host header would pass and come back in the HTTPS redirect's Location.
            problems.append(
                "ALLOWED_HOSTS: production needs the host names it answers for, not '*'"
            )
        if "*" in self.trusted_proxies:
            # Anyone could then choose their client IP (rate limits) and the scheme (redirect).
            problems.append("TRUSTED_PROXIES: production needs its proxies' addresses, not '*'")
        return problems

    @property
    def sqlalchemy_url(self) -> URL:
        """The async SQLAlchemy URL: DATABASE_URL if set, else built from the DB_* parts."""
        if self.database_url:
            url = make_url(self.database_url)
            backend = url.get_backend_name()
            if backend == "postgres":
                url = url.set(drivername="postgresql")
            return url.set(drivername=_ASYNC_DRIVERS[url.get_backend_name()])
        if self.db_driver == "sqlite":
            return make_url(f"sqlite+aiosqlite:///./data/{self.db_name}.db")
        default_port = 5432 if self.db_driver == "postgresql" else 3306
        return URL.create(
            _ASYNC_DRIVERS[self.db_driver],
            username=self.db_user,
            password=self.db_password.get_secret_value() if self.db_password else None,
            host=self.db_host,
            port=self.db_port or default_port,
            database=self.db_name,
        )

    @property
    def trusted_proxies_str(self) -> str:
        return ",".join(self.trusted_proxies)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def show_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production

    @property
    def serve_metrics(self) -> bool:
        return self.metrics_enabled if self.metrics_enabled is not None else not self.is_production


def _is_loopback(host_port: str) -> bool:
    try:
        host = urlsplit(f"//{host_port}").hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(value: str) -> str:
    """`value` with a URL's password and query string replaced by `***`; works on text that
    does not parse, which is when a configuration error shows it."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = userinfo.split(":", 1)[0] + ":***@" + host
    head, query, _ = rest.partition("?")
    return f"{scheme}{sep}{head}" + ("?***" if query else "")


def url_origin(url: str) -> str:
    """scheme://host[:port] of a URL: what may be logged of one whose userinfo, path or query
    can hold a token (webhooks)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "(not a URL)"
    if not parts.scheme or not host:
        return "(not a URL)"
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + (f":{port}" if port else "")


def redact_urls(text: str) -> str:
    """Every URL in free text (an exception's message) cut down to its origin."""
    return re.sub(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+", lambda m: url_origin(m[0]), text)


def _secret_fields() -> set[str]:
    return {
        name
        for name, field in Settings.model_fields.items()
        if SecretStr in (field.annotation, *typing.get_args(field.annotation))
    }


def describe_settings_error(exc: ValidationError) -> str:
    """One line naming each bad variable, for the console: `LOG_LEVEL: Input should be ...`.
    The bad value is shown, except a secret's, and with a URL's password masked: the line ends
    up in terminals, CI logs and container logs."""
    secret = _secret_fields()
    parts = []
    for error in exc.errors():
        name = "_".join(str(p) for p in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        value = error.get("input")
        if isinstance(value, str):
            value = redact_url(value)
        shown = (
            f" (got {value!r})"
            if name and name.lower() not in secret and isinstance(value, str | int | float)
            else ""
        )
        parts.append(f"{name}: {message}{shown}" if name else message)
    return "configuration error: " + "; ".join(parts)


@lru_cache
def get_settings() -> Settings:
    return Settings()
