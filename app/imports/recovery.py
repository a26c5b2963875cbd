"""At start-up: imports left `running` by a process of this host that has died are failed, so
their files can be imported again (the stuck-import sweep of app/scheduler/runner.py covers
processes on other hosts)."""

from __future__ import annotations

import os
import socket

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.logger import get_logger
from app.imports import lifecycle
from app.imports.service import WORKER_ID

log = get_logger(__name__)


async def recover_interrupted(db: Database) -> int:
    """Mark imports left `running` by a dead process on this host as failed (at start-up)."""
    host = socket.gethostname()
    me = os.getpid()

    async def work(session: AsyncSession) -> int:
        dead = [
            import_id
            for import_id, worker in await lifecycle.running_workers(session)
            if worker and worker != WORKER_ID and _process_gone(worker, host, me)
        ]
        return await lifecycle.recover(session, dead) if dead else 0

    count = await db.run(work)
    if count:
        log.warning("imports_recovered", count=count)
    return count


def _process_gone(worker: str, host: str, me: int) -> bool:
    worker_host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if worker_host != host or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == me:
        return True  # an earlier process that had our pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
