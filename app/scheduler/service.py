"""The scheduler: APScheduler (AsyncIOScheduler) in the API process or alone
(`workshop scheduler`).

Schedules live in the database; every SCHEDULER_SYNC_SECONDS (and at once after an edit made
through this process) the jobs are brought in step with them, so an edit needs no restart.
APScheduler's job store is per process and never shared: what makes several schedulers safe is
the claim each import makes in the database (app/imports/lifecycle.py), not the job store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, update

from app.core import idempotency, planner
from app.core.config import Settings
from app.core.db import Database
from app.core.logger import get_logger
from app.core.metrics import SCHEDULER_RUNS
from app.imports.service import Importer
from app.models import ImportSchedule
from app.scheduler import runner
from app.scheduler.schemas import JobRead, cron_trigger
from app.storage import Storage
from app.webhooks import scan, sender
from app.webhooks import service as webhooks

log = get_logger(__name__)
HOUSEKEEPING = {
    "housekeeping:expire-files": "Delete stored files older than FILE_RETENTION_DAYS",
    "housekeeping:stuck-imports": "Fail imports running past IMPORT_RUNNING_TIMEOUT_SECONDS",
    "webhooks:scan": "Find due dates, lapses, low stock and overdue work for the webhooks",
    "webhooks:deliver": "Deliver pending webhook events, retrying failed ones with backoff",
    "housekeeping:idempotency-keys": "Delete Idempotency-Keys older than IDEMPOTENCY_KEEP_HOURS",
    "housekeeping:prune-deletions": "Drop deletions older than DELETIONS_KEEP_DAYS from the feed",
    "housekeeping:statistics": "SQLite: refresh the query planner's statistics (ANALYZE)",
}


class Scheduler:
    def __init__(
        self, db: Database, importer: Importer, storage: Storage, settings: Settings
    ) -> None:
        self.db, self.importer, self.storage, self.settings = db, importer, storage, settings
        self.aps = AsyncIOScheduler(timezone=UTC)
        self.versions: dict[int, int] = {}
        self.last: dict[str, tuple[datetime, str]] = {}

    async def start(self) -> None:
        options: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
        self.aps.add_job(
            self.sync,
            IntervalTrigger(seconds=self.settings.scheduler_sync_seconds),
            id="sync",
            **options,
        )
        self.aps.add_job(
            self._expire, IntervalTrigger(hours=6), id="housekeeping:expire-files", **options
        )
        self.aps.add_job(
            self._unstick, IntervalTrigger(minutes=5), id="housekeeping:stuck-imports", **options
        )
        self.aps.add_job(
            self._prune, IntervalTrigger(hours=1), id="housekeeping:prune-deletions", **options
        )
        self.aps.add_job(
            self._analyze,
            IntervalTrigger(days=1),
            id="housekeeping:statistics",
            **options,
        )
        self.aps.add_job(
            self._prune_keys,
            IntervalTrigger(hours=1),
            id="housekeeping:idempotency-keys",
            **options,
        )
        self.aps.add_job(
            self._scan,
            IntervalTrigger(seconds=self.settings.webhook_scan_seconds),
            id="webhooks:scan",
            next_run_time=datetime.now(UTC),
            **options,
        )
        self.aps.add_job(
            self._deliver,
            IntervalTrigger(seconds=self.settings.webhook_deliver_seconds),
            id="webhooks:deliver",
            **options,
        )
        try:
            await webhooks.sync_builtin(self.db, self.settings)
        except Exception as exc:  # the database may be down at start: the scheduler still runs
            log.error("alert_webhook_sync_failed", error=str(exc))
        self.aps.start()
        await self.sync()
        log.info("scheduler_started")

    async def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    async def sync(self) -> None:
        """Add, change or remove schedule jobs to match the enabled schedules."""
        try:
            rows = await self.db.run(
                lambda s: s.execute(
                    select(
                        ImportSchedule.id,
                        ImportSchedule.version,
                        ImportSchedule.cron,
                        ImportSchedule.enabled,
                    )
                ),
                write=False,
            )
        except Exception as exc:
            log.error("scheduler_sync_failed", error=str(exc))
            return
        wanted = {row.id: row for row in rows.all() if row.enabled}
        for schedule_id in set(self.versions) - set(wanted):
            self.aps.remove_job(f"schedule:{schedule_id}")
            del self.versions[schedule_id]
        for schedule_id, row in wanted.items():
            if self.versions.get(schedule_id) == row.version:
                continue
            job_id = f"schedule:{schedule_id}"
            trigger = cron_trigger(row.cron)
            self.aps.add_job(
                self._run,
                trigger,
                args=[schedule_id],
                id=job_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=60,
            )
            self.versions[schedule_id] = row.version
            await self._record_next_run(schedule_id, self.aps.get_job(job_id).next_run_time)

    async def _record_next_run(self, schedule_id: int, next_run: datetime | None) -> None:
        statement = (
            update(ImportSchedule)
            .where(ImportSchedule.id == schedule_id)
            .values(next_run_at=next_run)
        )
        await self.db.run(lambda s: s.execute(statement))

    async def _run(self, schedule_id: int) -> None:
        job_id = f"schedule:{schedule_id}"
        try:
            report = await runner.run_schedule(self.db, self.importer, self.settings, schedule_id)
            self.last[job_id] = (report.finished_at, report.status)
            SCHEDULER_RUNS.labels(report.status).inc()
        except Exception as exc:  # never silent: logged, and shown on /scheduler/jobs
            log.error("schedule_run_failed", schedule_id=schedule_id, exc_info=exc)
            self.last[job_id] = (datetime.now(UTC), "error")
            SCHEDULER_RUNS.labels("error").inc()

    async def _expire(self) -> None:
        await self._housekeeping(
            "housekeeping:expire-files", runner.expire_files(self.db, self.storage, self.settings)
        )

    async def _unstick(self) -> None:
        await self._housekeeping(
            "housekeeping:stuck-imports", runner.fail_stuck_imports(self.db, self.settings)
        )

    async def _scan(self) -> None:
        await self._housekeeping(
            "webhooks:scan", scan.scan(self.db, self.settings.webhook_horizon_days)
        )

    async def _deliver(self) -> None:
        await self._housekeeping("webhooks:deliver", sender.deliver_due(self.db, self.settings))

    async def _prune_keys(self) -> None:
        await self._housekeeping("housekeeping:idempotency-keys", idempotency.prune(self.db))

    async def _prune(self) -> None:
        await self._housekeeping(
            "housekeeping:prune-deletions", runner.prune_deletions(self.db, self.settings)
        )

    async def _analyze(self) -> None:
        await self._housekeeping("housekeeping:statistics", planner.refresh(self.db))

    async def _housekeeping(self, job_id: str, work: Any) -> None:
        try:
            await work
            self.last[job_id] = (datetime.now(UTC), "ok")
        except Exception as exc:
            log.error("housekeeping_failed", job=job_id, exc_info=exc)
            self.last[job_id] = (datetime.now(UTC), "error")

    def housekeeping_jobs(self) -> list[JobRead]:
        jobs = []
        for job_id, name in HOUSEKEEPING.items():
            job = self.aps.get_job(job_id)
            last = self.last.get(job_id)
            jobs.append(
                JobRead(
                    id=job_id,
                    name=name,
                    kind="housekeeping",
                    enabled=job is not None,
                    next_run_at=job.next_run_time if job else None,
                    last_run_at=last[0] if last else None,
                    last_status=last[1] if last else None,
                )
            )
        return jobs


async def list_jobs(db: Database, scheduler: Scheduler | None) -> list[JobRead]:
    """One job per schedule, read from the database so any replica answers, then the
    housekeeping jobs of `scheduler` (this process's, when it runs one)."""
    rows = await db.run(
        lambda s: s.scalars(select(ImportSchedule).order_by(ImportSchedule.id)), write=False
    )
    jobs = [
        JobRead(
            id=f"schedule:{s.id}",
            name=s.name,
            kind="schedule",
            enabled=s.enabled,
            next_run_at=s.next_run_at,
            last_run_at=s.last_run_at,
            last_status=s.last_status,
        )
        for s in rows
    ]
    return jobs + (scheduler.housekeeping_jobs() if scheduler is not None else [])
