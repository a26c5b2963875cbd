"""The `workshop` command: serve, migrate, manage API keys, write the OpenAPI spec.

Every command validates the settings first and stops with one line naming a bad variable.
Commands that change data call the same services as the HTTP API.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.core import clock
from app.core.config import Settings, describe_settings_error, get_settings

T = TypeVar("T")

cli = typer.Typer(
    name="workshop", help="Welding workshop backend.", no_args_is_help=True, add_completion=False
)
db_cli = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
keys_cli = typer.Typer(
    help="API keys for machines, scripts and the first admin.", no_args_is_help=True
)
cli.add_typer(db_cli, name="db")
totals_cli = typer.Typer(
    help="The dashboards' day totals (kept on write, by the workshop's days).",
    no_args_is_help=True,
)
cli.add_typer(keys_cli, name="api-key")
cli.add_typer(totals_cli, name="totals")


def _settings() -> Settings:
    try:
        settings = get_settings()
    except ValidationError as exc:
        typer.echo(describe_settings_error(exc), err=True)
        raise typer.Exit(2) from None
    clock.use(settings.workshop_timezone)
    return settings


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work in its own transaction, as the API would."""
    from app.core.db import Database

    async def main() -> T:
        db = Database(_settings())
        try:
            return await db.run(work)
        finally:
            await db.dispose()

    return asyncio.run(main())


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
) -> None:
    """Run the HTTP API with uvicorn."""
    import uvicorn

    settings = _settings()
    from app.core.logger import configure_logging

    configure_logging(settings)
    with metrics_directory(1 if reload else workers):
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=None if reload else workers,
            reload=reload,
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies_str,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=30,
        )


@contextmanager
def metrics_directory(workers: int) -> Iterator[None]:
    """Where several workers count their metrics together (PROMETHEUS_MULTIPROC_DIR,
    app/core/metrics.py): the directory given is emptied before the workers start, since counts
    of an earlier run would be added to this one's; without one, a temporary directory serves
    this run and is removed after it. One worker needs none."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield
        return
    if workers <= 1:
        yield
        return
    made = tempfile.mkdtemp(prefix="workshop-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made  # the workers inherit it
    try:
        yield
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(made, ignore_errors=True)


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from app.core import migrations

    migrations.upgrade(_settings().sqlalchemy_url, revision)
    typer.echo(f"database at {migrations.current(_settings().sqlalchemy_url)}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Revert migrations down to REVISION (default: one step; `base` empties the schema)."""
    from app.core import migrations

    migrations.downgrade(_settings().sqlalchemy_url, revision)
    typer.echo(f"database at {migrations.current(_settings().sqlalchemy_url)}")


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    from app.core import migrations

    typer.echo(migrations.current(_settings().sqlalchemy_url))


@db_cli.command("check")
def db_check() -> None:
    """Fail when the models and the migrations differ (a migration is missing)."""
    from app.core import migrations

    diff = migrations.check(_settings().sqlalchemy_url)
    if diff:
        typer.echo(f"models and migrations differ: {diff}", err=True)
        raise typer.Exit(1)
    typer.echo("models and migrations match")


@keys_cli.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(help="What the key is for")],
    role: Annotated[Role, typer.Option(help="Role the key acts with")],
    expires_days: Annotated[int | None, typer.Option(min=1, help="Expire after N days")] = None,
) -> None:
    """Create an API key. The key is printed alone on the last line; it is not stored."""
    from app.api_keys import service
    from app.models.base import utcnow

    expires = utcnow() + timedelta(days=expires_days) if expires_days else None

    async def work(session: AsyncSession) -> tuple[int, str]:
        api_key, key = await service.create_api_key(
            session, name=name, role=role, expires_at=expires
        )
        return api_key.id, key

    key_id, key = _run(work)
    typer.echo(f"created API key {key_id} '{name}' with role {role.value}; store it now:", err=True)
    typer.echo(key)


@keys_cli.command("bootstrap")
def api_key_bootstrap() -> None:
    """Create a first admin key if there is no active admin key yet (used by `make run`)."""
    from app.api_keys import service

    async def work(session: AsyncSession) -> str | None:
        if await service.has_active_admin_key(session):
            return None
        _, key = await service.create_api_key(session, name="bootstrap admin", role=Role.admin)
        return key

    key = _run(work)
    if key is None:
        typer.echo(
            "an admin API key exists already; make another with "
            "`workshop api-key create --name NAME --role admin`"
        )
        return
    typer.echo("first admin API key (shown once, store it now):", err=True)
    typer.echo(key)


@keys_cli.command("list")
def api_key_list(
    include_revoked: Annotated[bool, typer.Option(help="Also list revoked keys")] = False,
) -> None:
    """List API keys (id, prefix, name, role, last used, state)."""
    from app.api_keys import service

    async def work(session: AsyncSession) -> list[str]:
        rows = await service.list_api_keys(session, include_revoked=include_revoked)
        return [
            "\t".join(
                [
                    str(k.id),
                    k.prefix + "…",
                    k.name,
                    k.role.value,
                    k.last_used_at.isoformat() if k.last_used_at else "never used",
                    "revoked" if k.revoked_at else "active",
                ]
            )
            for k in rows
        ]

    for line in _run(work):
        typer.echo(line)


@keys_cli.command("revoke")
def api_key_revoke(key_id: Annotated[int, typer.Argument(help="Id from `api-key list`")]) -> None:
    """Revoke an API key and the keys it created; running servers stop accepting them within
    AUTH_CACHE_SECONDS."""
    from app.api_keys import service
    from app.core.errors import AppError

    async def work(session: AsyncSession) -> int:
        return await service.revoke_api_key(session, key_id)

    try:
        made_by_it = _run(work)
    except AppError as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from None
    also = f" and {made_by_it} key(s) it created" if made_by_it else ""
    typer.echo(f"revoked API key {key_id}{also}")


@totals_cli.command("rebuild")
def totals_rebuild() -> None:
    """Count the day totals again by the days of WORKSHOP_TIMEZONE (after changing it; stop
    the API and the scheduler first)."""
    from app.dashboards import day_totals

    done = _run(day_totals.rebuild)
    typer.echo(
        f"day totals counted by the days of {done.zone} (were {done.previous}): "
        f"{done.entry_days} entry days, {done.inspection_days} inspection days, "
        f"{done.work_order_days} work-order days, "
        f"{done.run_days} days of weld runs"
    )


@cli.command()
def seed(
    force: Annotated[
        bool,
        typer.Option(
            help="Delete the workshop data there is, then seed (not users, keys, audit trail)"
        ),
    ] = False,
    if_empty: Annotated[
        bool, typer.Option(help="Seed only an empty database; otherwise do nothing (exit 0)")
    ] = False,
) -> None:
    """Fill the database with a small, realistic demo workshop."""
    from app import seed as demo
    from app.dashboards import day_totals
    from app.storage import create_storage

    storage = create_storage(_settings())

    async def work(session: AsyncSession) -> dict[str, int] | None:
        if not await demo.is_empty(session):
            if not force:
                return None
            await demo.wipe(session, storage)
        await day_totals.check_zone(session)  # no totals now: they are counted in this zone
        return await demo.seed(session, storage)

    made = _run(work)
    if made is None:
        if if_empty:
            typer.echo("database has workshop data already; not seeding")
            return
        typer.echo("the database is not empty; use --force to replace its workshop data", err=True)
        raise typer.Exit(1)
    typer.echo("seeded: " + ", ".join(f"{count} {kind}" for kind, count in made.items()))


@cli.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    template: Annotated[int, typer.Option("--template", help="Template id")],
    on_error: Annotated[str, typer.Option(help="abort | skip")] = "abort",
    force: Annotated[bool, typer.Option(help="Import a file that was imported before")] = False,
) -> None:
    """Import an Excel file with a template, through the same pipeline as uploads."""
    from app.core.db import Database
    from app.core.errors import AppError
    from app.dashboards import day_totals
    from app.imports.service import Importer, template_for_upload
    from app.imports.upload import local_upload
    from app.models import ImportSource
    from app.storage import create_storage

    if on_error not in ("abort", "skip"):
        typer.echo("--on-error must be abort or skip", err=True)
        raise typer.Exit(2)
    settings = _settings()

    async def main() -> dict[str, object]:
        db = Database(settings)
        importer = Importer(db, create_storage(settings), settings)
        try:
            await day_totals.ensure_zone(db)
            tpl = await db.run(lambda s: template_for_upload(s, template), write=False)
            upload = await local_upload(path, settings)
            with typer.progressbar(length=1, label=f"importing {path.name}") as bar:
                task = asyncio.create_task(
                    importer.start(
                        tpl,
                        upload,
                        source=ImportSource.cli,
                        on_error=on_error,
                        force=force,
                        created_by="cli",
                        wait=True,
                    )
                )
                done, length = 0, 1
                while not task.done():
                    await asyncio.sleep(0.2)
                    for progress in importer.progress.values():
                        if progress.rows_total:
                            length = max(length, progress.rows_total)
                            bar.length = length
                            bar.update(progress.rows_imported - done)
                            done = progress.rows_imported
                record, _ = await task
                bar.update(max(length - done, 0))
            return {"id": record.id, "imported": record.rows_imported, "failed": record.rows_failed}
        finally:
            await db.dispose()

    try:
        result = asyncio.run(main())
    except day_totals.ZoneMismatch as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except AppError as exc:
        typer.echo(f"import failed: {exc.detail}", err=True)
        for error in exc.extra.get("row_errors", [])[:20]:
            typer.echo(f"  row {error['row']}, {error['column']}: {error['message']}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"import {result['id']}: {result['imported']} rows imported, {result['failed']} skipped"
    )


@cli.command()
def scheduler() -> None:
    """Run the scheduled imports and housekeeping without the API (until SIGTERM/Ctrl+C)."""
    import signal

    from app.core.db import Database
    from app.core.logger import configure_logging
    from app.dashboards import day_totals
    from app.imports.recovery import recover_interrupted
    from app.imports.service import Importer
    from app.scheduler.service import Scheduler
    from app.storage import create_storage

    settings = _settings()
    configure_logging(settings)

    async def main() -> None:
        db = Database(settings)
        storage = create_storage(settings)
        importer = Importer(db, storage, settings)
        runner = Scheduler(db, importer, storage, settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await day_totals.ensure_zone(db)
            await recover_interrupted(db)
            await runner.start()
            await stop.wait()
        finally:
            await runner.shutdown()
            await importer.wait_idle()
            await db.dispose()

    try:
        asyncio.run(main())
    except day_totals.ZoneMismatch as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@cli.command()
def openapi(
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout")] = None,
) -> None:
    """Print (or write) the OpenAPI spec of the API."""
    from app.main import create_app

    spec = json.dumps(create_app(_settings()).openapi(), indent=2, sort_keys=False)
    if output is None:
        sys.stdout.write(spec + "\n")
    else:
        output.write_text(spec + "\n", encoding="utf-8")
        typer.echo(f"wrote {output}")


@cli.command()
def docs(
    folder: Annotated[Path, typer.Option(help="Where to write")] = Path("docs"),
) -> None:
    """Write docs/API_Reference.md (from the OpenAPI spec) and docs/Database_Schema.md (from the
    models)."""
    from app.core.reference import api_reference, database_schema
    from app.main import create_app

    spec = create_app(_settings()).openapi()
    (folder / "API_Reference.md").write_text(api_reference(spec), encoding="utf-8")
    (folder / "Database_Schema.md").write_text(database_schema(), encoding="utf-8")
    typer.echo(f"wrote {folder / 'API_Reference.md'} and {folder / 'Database_Schema.md'}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
