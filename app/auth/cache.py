"""Verified credentials kept for a few seconds, so a request does not pay a database round trip
(or a token verification) to learn who is calling.

A revoked API key, a deactivated user or a changed role takes effect at once on the worker that
made the change (it clears the cache) and within `AUTH_CACHE_SECONDS` on the others.
`AUTH_CACHE_SECONDS=0` turns the cache off.
"""

from __future__ import annotations

import hashlib
import threading

from cachetools import TTLCache

from app.auth.principal import Principal


class CredentialCache:
    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self._entries: TTLCache[str, Principal] | None = (
            TTLCache(maxsize=size, ttl=seconds) if seconds > 0 else None
        )
        self._lock = threading.Lock()  # TTLCache is not thread-safe; the app may use threads

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()  # no credential kept in memory

    def get(self, token: str) -> Principal | None:
        if self._entries is None:
            return None
        with self._lock:
            return self._entries.get(self._key(token))

    def put(self, token: str, principal: Principal) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries[self._key(token)] = principal

    def clear(self) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries.clear()
