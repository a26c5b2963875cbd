from __future__ import annotations

from typing import Annotated

from fastapi import Query

from app.auth.deps import CanRead
from app.core.db import SessionDep
from app.core.deletions import RESTRICTED
from app.core.http import Router, SettingsDep
from app.core.openapi import errors
from app.core.pagination import Page
from app.deletions import service
from app.deletions.schemas import DeletionQuery, DeletionRead

router = Router(prefix="/deletions", tags=["sync"])


@router.get("", response_model=Page[DeletionRead], responses=errors(401, 403, 410, 422))
async def list_deletions(
    query: Annotated[DeletionQuery, Query()],
    session: SessionDep,
    settings: SettingsDep,
    principal: CanRead,
) -> Page[DeletionRead]:
    """Rows deleted from the lists since a time, oldest first: what a client that keeps a copy
    drops (the lists' `updated_since` gives it what is new or changed). Kept
    DELETIONS_KEEP_DAYS; a `since` before that is 410 `SYNC_EXPIRED`: sync in full again
    (docs/Product.md, Incremental sync). Deleted users and webhook subscriptions are shown
    only to those who may list them (admins)."""
    return await service.list_deletions(
        session,
        query,
        settings.deletions_keep_days,
        hidden=[name for name, needs in RESTRICTED.items() if not principal.can(needs)],
    )
