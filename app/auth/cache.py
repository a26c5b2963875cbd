"""Verified credentials kept for a few seconds, so a request does not pay a database round trip
(or a token verification) to learn who is calling.

An entry lives `AUTH_CACHE_SECONDS` from the moment its credential was verified, however often
it is used: reading an entry never extends it, so a client that calls every second is still
verified again within that time, and a revocation made elsewhere (another worker, the CLI,
Firebase) reaches it. A change made through this worker's API clears the cache after its
commit; a lookup that was under way when the cache was cleared does not put what it read
(`generation`), since it may have read the rows from before the change.
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
        self._generation = 0

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()  # no credential kept in memory

    @property
    def generation(self) -> int:
        """Taken before a lookup and handed to `put`: a clear in between voids the lookup."""
        return self._generation

    def get(self, token: str) -> Principal | None:
        if self._entries is None:
            return None
        with self._lock:
            return self._entries.get(self._key(token))

    def put(self, token: str, principal: Principal, generation: int | None = None) -> None:
        """Keep what a lookup just verified. Only ever after a lookup: a TTLCache entry that is
        set again starts a new lifetime, and a cached answer must not renew itself."""
        if self._entries is None:
            return
        with self._lock:
            if generation is None or generation == self._generation:
                self._entries[self._key(token)] = principal

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            if self._entries is not None:
                self._entries.clear()
