from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.auth.roles import Role
from app.core.schemas import InputModel, ResourceRead, UTCDateTime


class ApiKeyCreate(InputModel):
    name: str = Field(min_length=1, max_length=100, examples=["cell-3 exporter"])
    role: Role
    expires_at: UTCDateTime | None = None


class ApiKeyRead(ResourceRead):
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it")
    role: Role
    created_by_id: int | None = Field(description="The user who created the key")
    created_by_key_id: int | None = Field(
        description="The API key that created the key; neither is set for a key made with the CLI"
    )
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself. Shown once: store it now.")
