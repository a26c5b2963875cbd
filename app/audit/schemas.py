from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.core.pagination import ListQuery
from app.core.schemas import UTCDateTime

Action = Literal["create", "update", "delete"]


class Actor(BaseModel):
    kind: Literal["user", "api_key", "system"]
    id: str | None = Field(description="The user's or the key's id; null for the system")
    name: str | None = Field(description="The user's email or name, the key's name, `system`")


class AuditEventRead(BaseModel):
    id: int
    at: dt.datetime
    actor: Actor
    action: Action
    resource: str = Field(description="The resource's name in the URL", examples=["machines"])
    resource_id: str
    changes: dict[str, list[Any]] = Field(
        description="`{field: [old, new]}`: `[null, value]` on create, `[value, null]` on delete",
        examples=[{"status": ["active", "maintenance"]}],
    )
    request_id: str | None = Field(description="The request's X-Request-ID, as in the logs")


class AuditQuery(ListQuery):
    sort_by: Literal["id"] = "id"
    order: Literal["asc", "desc"] = Field(default="desc", description="Newest first by default")
    resource: str | None = Field(default=None, max_length=50, examples=["workorders"])
    resource_id: str | None = Field(default=None, max_length=64)
    actor: str | None = Field(
        default=None,
        max_length=320,
        description="The actor as `kind:id` (`user:3`, `api_key:7`, `system:`), else its name "
        "(a user's email, a key's name), exactly",
    )
    action: Action | None = None
    from_: UTCDateTime | None = Field(default=None, alias="from", description="At or after")
    to: UTCDateTime | None = Field(default=None, description="At or before")
    after_id: int | None = Field(
        default=None,
        ge=0,
        description="Only events after this id in the list's order (older with order=desc, "
        "newer with asc): a keyset cursor, pass the last page's `next_cursor`; fast at any "
        "depth.",
    )

    @model_validator(mode="after")
    def _range_in_order(self) -> AuditQuery:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise ValueError("from is after to")
        return self


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    total: int | None = Field(description="null when include_total=false")
    skip: int
    limit: int
    has_more: bool
    next_cursor: int | None = Field(description="Pass as after_id for the next page")
