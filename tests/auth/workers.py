"""Several app instances on one database stand for several workers (or replicas): each has its
own credential cache and rate limiter, as separate processes would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from app.core.db import Database
from app.main import create_app
from tests.conftest import make_settings


@asynccontextmanager
async def worker(
    db: Database, **overrides: object
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(make_settings(**overrides), database=db)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, app
        await app.state.importer.wait_idle()
    finally:
        if app.state.firebase is not None:
            app.state.firebase.close()


Call = Callable[[], Awaitable[httpx.Response]]


async def poll(call: Call, seconds: float, every: float = 0.2) -> list[int]:
    """Call every `every` seconds for `seconds`, as an app that refreshes a screen does."""
    codes = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        codes.append((await call()).status_code)
        await asyncio.sleep(every)
    return codes


async def seconds_until(
    done: Callable[[], Awaitable[bool]], limit: float, every: float = 0.2
) -> float:
    """Keep polling until `done()`; how long that took. Fails past `limit` seconds."""
    start = time.monotonic()
    while time.monotonic() - start <= limit:
        if await done():
            return time.monotonic() - start
        await asyncio.sleep(every)
    raise AssertionError(f"not done after {limit} s of polling")


def answers(status: int, call: Call) -> Callable[[], Awaitable[bool]]:
    async def done() -> bool:
        return (await call()).status_code == status

    return done
