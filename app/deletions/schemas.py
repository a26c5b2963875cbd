from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from app.core.pagination import ListQuery
from app.core.schemas import UTCDateTime

# app.core.deletions.LISTED's names (a test keeps them equal).
Resource = Literal[
    "attachments",
    "calibrations",
    "employees",
    "equipment",
    "import-schedules",
    "imports",
    "inspections",
    "items",
    "lots",
    "machines",
    "qualifications",
    "stock-movements",
    "templates",
    "users",
    "validations",
    "webhooks",
    "welds",
    "workorders",
    "workshop-entries",
    "wps",
]


class DeletionRead(BaseModel):
    resource: Resource = Field(description="The list it was in, by its URL name")
    id: int = Field(description="The deleted row's id")
    deleted_at: dt.datetime


class DeletionQuery(ListQuery):
    sort_by: Literal["deleted_at"] = "deleted_at"
    since: UTCDateTime | None = Field(
        default=None,
        description="Only deletions at or after this time (inclusive), oldest first: the time "
        "of the client's last sync, less its overlap. Before the feed's horizon "
        "(DELETIONS_KEEP_DAYS ago) it is 410 SYNC_EXPIRED: sync in full",
    )
    resource: Resource | None = Field(default=None, description="Only this resource's")

    @model_validator(mode="after")
    def _one_since(self) -> DeletionQuery:
        """`since` is the feed's name for the lists' `updated_since`: one of them."""
        if self.since is not None:
            if self.updated_since is not None:
                raise ValueError("give since or updated_since, not both")
            self.updated_since = self.since
        return self
