from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.auth.roles import Permission, Role, role_allows


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a signed-in user or an API key, with the role that decides access
    (None: no role, a pending user or a key whose creator has none)."""

    kind: Literal["user", "api_key"]
    id: int
    name: str
    role: Role | None

    def can(self, permission: Permission) -> bool:
        return role_allows(self.role, permission)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"
