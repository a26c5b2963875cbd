"""Declarative base shared by every model: naming convention, UTC timestamps, version counter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT primary keys on server databases; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC in Python.

    PostgreSQL stores `timestamptz`; MySQL/MariaDB `DATETIME(6)` and SQLite text hold naive
    UTC, converted here on the way in and out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """Aware UTC from what the driver gives, in one call a value: the default chain of the
        driver's conversion and `process_result_value` is three, and a list page reads a few
        hundred of these (ADR 0043)."""
        if dialect.name == "sqlite":
            return _from_sqlite
        convert = self.load_dialect_impl(dialect).result_processor(dialect, coltype)
        if convert is None:
            return lambda value: None if value is None else _as_utc(value)
        return lambda value: None if value is None else _as_utc(convert(value))


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _from_sqlite(value: str | datetime | None) -> datetime | None:
    """SQLite's text of a naive UTC time as SQLAlchemy writes it (`YYYY-MM-DD HH:MM:SS`, with
    `.ffffff` or not) read as UTC in one parse, a third of parsing it and then setting its
    zone; any other value as SQLAlchemy reads it."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) in (19, 26) and value[10] == " ":
        return datetime.fromisoformat(value + "+00:00")
    return _as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, index=True, sort_order=900
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, index=True, sort_order=901
    )


class Resource(TimestampMixin, Base):
    """A row the API exposes: id, timestamps and an optimistic-locking `version`.

    SQLAlchemy adds `WHERE version = :seen` to every UPDATE and bumps it, so two writers that
    read the same version cannot both succeed (the loser gets StaleDataError -> 412).
    """

    __abstract__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True, sort_order=-100)
    version: Mapped[int] = mapped_column(Integer, nullable=False, sort_order=902)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}
