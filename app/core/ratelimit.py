"""Rate limits per caller: per credential when there is one, else per client IP.

Reads, writes, uploads and authentication each have their own budget (`RATE_LIMIT_*`, in the
`limits` notation: `300/minute`). Failed authentications count against the caller's IP, and a
credential from an IP whose budget is spent is refused before it is verified (`check`, which
spends nothing), so guessing keys is slow and a valid key found by guessing does not help. The
counters live in memory (one process) or Redis (shared by every replica). If Redis is
unreachable the limiter fails open: requests pass, and the outage is logged (at most once a
minute) and shown on /health/status; it never turns into a 500.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings
from app.core.errors import AppError
from app.core.http import Transport
from app.core.logger import get_logger

log = get_logger(__name__)
Category = Transport


class RateLimited(AppError):
    status_code, error_code, title = 429, "RATE_LIMITED", "Too many requests"


@dataclass(frozen=True)
class Decision:
    limit: int
    remaining: int
    reset_at: float


def create_storage(uri: str, prefix: str) -> Storage:
    if uri.startswith(("redis://", "rediss://")):
        return RedisStorage(
            uri,
            implementation="redispy",
            key_prefix=prefix,
            socket_connect_timeout=1,
            socket_timeout=1,
        )
    return MemoryStorage()


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.storage = create_storage(settings.rate_limit_storage_uri, settings.rate_limit_prefix)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.limits: dict[Category, RateLimitItem] = {
            "read": parse(settings.rate_limit_read),
            "write": parse(settings.rate_limit_write),
            "upload": parse(settings.rate_limit_upload),
            "auth": parse(settings.rate_limit_auth),
        }
        self._last_outage_log = 0.0

    async def hit(self, category: Category, key: str, what: str = "") -> Decision | None:
        """Count one request; raise RateLimited past the budget. None when not limited."""
        return await self._count(category, key, what, spend=True)

    async def check(self, category: Category, key: str, what: str = "") -> Decision | None:
        """Raise RateLimited if the budget is spent already, without spending any of it."""
        return await self._count(category, key, what, spend=False)

    async def peek(self, category: Category, key: str) -> Decision | None:
        """The budget as it stands, spending nothing and refusing nothing: for the headers of a
        response that spent none of it (a 403, a 404 of no route, a refused credential's
        neighbours)."""
        return await self._count(category, key, "", spend=False, enforce=False)

    async def _count(
        self, category: Category, key: str, what: str, *, spend: bool, enforce: bool = True
    ) -> Decision | None:
        if not self.enabled:
            return None
        item = self.limits[category]
        try:
            allowed = await self.limiter.hit(item, category, key) if spend else True
            stats = await self.limiter.get_window_stats(item, category, key)
        except Exception as exc:  # the store is down: fail open, loudly
            now = time.monotonic()
            if now - self._last_outage_log > 60:
                self._last_outage_log = now
                log.error("rate_limit_store_unavailable", error=str(exc))
            return None
        decision = Decision(item.amount, stats.remaining, stats.reset_time)
        if enforce and (not allowed or (not spend and stats.remaining <= 0)):
            retry = max(1, int(decision.reset_at - time.time()) + 1)
            raise RateLimited(
                f"Too many {what or category + ' requests'}: {item.amount} per "
                f"{item.get_expiry()} s. "
                f"Try again in {retry} s.",
                headers={"Retry-After": str(retry), **headers(decision)},
            )
        return decision

    async def ping(self) -> bool:
        try:
            return bool(await self.storage.check())
        except Exception:
            return False


def headers(decision: Decision) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(max(decision.remaining, 0)),
        "X-RateLimit-Reset": str(int(decision.reset_at)),
    }


ANONYMOUS: Category = "auth"  # the budget of a caller without a valid credential: its address's


def anonymous_key(scope: Scope) -> str:
    """The key of the client address's budget (the peer, after trusted proxies' headers)."""
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class RateLimitHeaders:
    """Adds the X-RateLimit-* headers of the request's budget to its response, errors included.

    The budget is the one the request was counted against (`state.rate_limit`, set by the auth
    dependencies: the caller's; the address's when the credential was missing or failed; for a
    403 the caller's as it stands, since a refused call spends none). A response that met no
    auth at all (a 404 of no route, a 422 of a repeated parameter, a 413) shows the address's
    budget as it stands (`peek`). Health probes and /metrics are never limited and carry none."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter | None = None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limiter = None if path.startswith(("/health", "/metrics")) else self.limiter

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision = scope.get("state", {}).get("rate_limit")
                if decision is None and limiter is not None:
                    decision = await limiter.peek(ANONYMOUS, anonymous_key(scope))
                if decision is not None:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    extra = [
                        (k.lower().encode(), v.encode())
                        for k, v in headers(decision).items()
                        if k.lower().encode() not in present
                    ]
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
