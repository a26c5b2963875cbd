"""Alembic environment: async engine from the app's settings, batch mode on SQLite."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection, make_url

from app.core.config import get_settings
from app.core.db import create_engine
from app.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or get_settings().sqlalchemy_url
    return url if isinstance(url, str) else url.render_as_string(hide_password=False)


def _configure(connection: Connection | None = None) -> None:
    url = make_url(_url())
    context.configure(
        connection=connection,
        url=None if connection is not None else url,
        target_metadata=target_metadata,
        render_as_batch=url.get_backend_name() == "sqlite",
        compare_type=True,
        compare_server_default=True,
        literal_binds=connection is None,
        # Each revision commits on its own: a failed one leaves the database at the last good
        # revision, and nothing one revision left open (a server-side cursor on PostgreSQL)
        # blocks the next one's ALTER TABLE.
        transaction_per_migration=True,
    )


def run_migrations_offline() -> None:
    _configure()
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # Run with foreign keys off (table copies); what they would have refused, refuse now.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows with dangling references: {broken}")


async def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller (tests) lends its own connection
        _run_sync(connection)
        return
    engine = create_engine(get_settings(), make_url(_url()), foreign_keys=False)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run_sync)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
