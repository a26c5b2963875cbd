"""Idempotent POSTs: a retry that sends the `Idempotency-Key` of a first request gets the first
answer again, and the work is done once (ADR 0035).

A POST with the header is watched by `IdempotentPosts` (pure ASGI): it hashes the request
(method, path, query, content type and body, a multipart boundary left out) as the body streams
in. Once the caller is known and allowed (`claim`, from the permission dependency), the key is
claimed for that caller by inserting a row that the unique constraint on (principal, key)
arbitrates between racing requests:

- the row is new: the request runs. Its own transaction marks the row `committed` together
  with its work (`get_session` calls `request.state.before_commit`); the answer (status, the
  headers that mean something, the body byte for byte) is kept before its last byte is sent.
  A 5xx, or a crash, frees the key (unless the work committed) so a retry does the work.
- the row exists with an answer: the answer is replayed, marked `Idempotent-Replayed: true`.
- the row is for another route or another body: 422 IDEMPOTENCY_KEY_REUSED.
- the first request is still running: 409 IDEMPOTENCY_KEY_IN_USE with Retry-After; its lease
  (LEASE) ended without a commit (the process died): the key is taken over and the work done.
- its work committed but its answer was never kept (the process died in between): 409
  IDEMPOTENCY_OUTCOME_UNKNOWN, never a second run.

Keys live IDEMPOTENCY_KEEP_HOURS; an expired row is replaced at its next use, and the
scheduler's housekeeping deletes the others (`prune`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from tempfile import SpooledTemporaryFile
from typing import Any, cast

import anyio
from fastapi import Depends, Request
from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import Database
from app.core.errors import AppError
from app.core.logger import get_logger
from app.models import IdempotencyKey
from app.models.base import utcnow

log = get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# How long a claim may run before a retry may take it over, when its work never committed.
# Longer than any request's synchronous work (a large import goes to the background).
LEASE = timedelta(minutes=10)
RETRY_AFTER_S = 1
MAX_KEPT_BODY = 4 * 1024 * 1024
SPOOL_IN_MEMORY = 1024 * 1024
_READ_CHUNK = 64 * 1024
_KEY = re.compile(r"[\x20-\x7e]{1,255}")
# Recomputed, or added again on the replay by the middleware outside this one.
_NOT_KEPT = frozenset({"content-length", "date", "server", "x-request-id"})
_BOUNDARY = re.compile(rb"""boundary=(?:"([^"]+)"|([^;\s]+))""", re.IGNORECASE)


class IdempotencyKeyInvalid(AppError):
    status_code, error_code, title = 422, "IDEMPOTENCY_KEY_INVALID", "Invalid idempotency key"


class IdempotencyKeyReused(AppError):
    status_code, error_code, title = 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency key reused"


class IdempotencyKeyInUse(AppError):
    status_code, error_code, title = 409, "IDEMPOTENCY_KEY_IN_USE", "Idempotency key in use"


class IdempotencyOutcomeUnknown(AppError):
    status_code, error_code = 409, "IDEMPOTENCY_OUTCOME_UNKNOWN"
    title = "Outcome of the first request unknown"


class IdempotentAnswerNotKept(AppError):
    status_code, error_code = 409, "IDEMPOTENT_ANSWER_NOT_KEPT"
    title = "The first answer is not kept"


def keeps_no_answer() -> None:
    """Marks a POST whose answer holds a secret shown once (a new API key): the work is still
    done once per key, but the answer is not stored, and a retry is told so (409) with the
    `Location` of what the first request made."""


NO_REPLAY = Depends(keeps_no_answer)


class _Replay(Exception):
    """Raised by `claim` when the key already has an answer; the middleware sends it."""


class Fingerprint:
    """sha256 of what makes two requests the same request. A multipart body's boundary is
    random per request (a client that rebuilds its request on retry picks another one), so it
    is cut out of the body as it streams, across chunk edges."""

    def __init__(self, scope: Scope) -> None:
        content_type = _header(scope, b"content-type") or b""
        match = _BOUNDARY.search(content_type)
        self.boundary = b"--" + (match.group(1) or match.group(2)) if match else None
        kind = content_type.split(b";")[0].strip().lower() if match else content_type
        self.hash = hashlib.sha256()
        for part in (
            scope["method"].encode(),
            scope["path"].encode(),
            scope.get("query_string", b""),
            kind,
        ):
            self.hash.update(part + b"\n")
        self.carry = b""

    def update(self, chunk: bytes) -> None:
        if self.boundary is None:
            self.hash.update(chunk)
            return
        data, mark = self.carry + chunk, self.boundary
        position = 0
        while (found := data.find(mark, position)) != -1:
            self.hash.update(data[position:found])
            position = found + len(mark)
        # A boundary that starts in the last len(mark) - 1 bytes may end in the next chunk.
        cut = max(position, len(data) - len(mark) + 1)
        self.hash.update(data[position:cut])
        self.carry = data[cut:]

    def hexdigest(self) -> str:
        self.hash.update(self.carry)
        self.carry = b""
        return self.hash.hexdigest()


class Idempotency:
    """One POST's key, its request's fingerprint, and its claim."""

    def __init__(self, key: str, scope: Scope, receive: Receive) -> None:
        self.key = key
        self.scope = scope
        self._receive = receive
        self.fingerprint = Fingerprint(scope)
        self.digest: str | None = None
        self.received_all = False
        self.spool: Any = None
        self.spool_size = 0
        self.claim_id: int | None = None
        self.settled = False
        self.replay: Any = None

    async def receive(self) -> Message:
        if self.spool is not None:
            return self._from_spool()
        message = await self._receive()
        if message["type"] == "http.request" and not self.received_all:
            self.fingerprint.update(message.get("body", b""))
            self.received_all = not message.get("more_body", False)
        return message

    async def read_all(self) -> str:
        """The fingerprint of the whole request. A route that reads its body itself (an
        upload) has not read it yet: it is received here (within the body limit of the
        middleware outside) into a spool that the route then reads."""
        if not self.received_all:
            spool = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed in close())
            self.spool = spool
            while not self.received_all:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                body = message.get("body", b"")
                self.fingerprint.update(body)
                spool.write(body)
                self.spool_size += len(body)
                self.received_all = not message.get("more_body", False)
            spool.seek(0)
        if self.digest is None:
            self.digest = self.fingerprint.hexdigest()
        return self.digest

    def _from_spool(self) -> Message:
        chunk = self.spool.read(_READ_CHUNK)
        more = self.spool.tell() < self.spool_size
        if not more:
            self.close()  # later reads wait for the disconnect, from the server
        return {"type": "http.request", "body": chunk, "more_body": more}

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


async def claim(request: Request, principal: str) -> None:
    """Claim the request's `Idempotency-Key` for `principal` (the user or API key, never the
    token: a Firebase token changes every hour). Returns when this request is to do the work;
    raises to replay the first answer or to refuse. Called once the caller is allowed."""
    idem: Idempotency | None = _state(request.scope).get("idempotency")
    if idem is None or idem.claim_id is not None or idem.replay is not None:
        return
    if not _KEY.fullmatch(idem.key):
        raise IdempotencyKeyInvalid(
            f"{HEADER} must be 1 to 255 printable ASCII characters",
            errors=[
                {
                    "loc": ["header", HEADER],
                    "field": HEADER,
                    "message": "1 to 255 printable ASCII characters",
                    "type": "idempotency_key",
                }
            ],
        )
    fingerprint = await idem.read_all()
    db: Database = request.app.state.db
    keep = timedelta(hours=request.app.state.settings.idempotency_keep_hours)
    line = f"POST {request.scope['path']}"[:1000]
    for _ in range(5):
        now = utcnow()
        values = {
            "principal": principal,
            "key": idem.key,
            "request": line,
            "fingerprint": fingerprint,
            "committed": False,
            "created_at": now,
            "locked_until": now + LEASE,
            "expires_at": now + keep,
        }
        try:
            idem.claim_id = await db.run(lambda s, v=values: _insert(s, v))  # type: ignore[misc]
        except IntegrityError:
            row = await db.run(lambda s: _find(s, principal, idem.key), write=False)
            if row is None:
                continue  # freed since the insert failed: try again
            if await _stale(db, row, now):
                continue
            _judge(row, line, fingerprint, now)
            idem.replay = row
            raise _Replay() from None
        else:
            _state(request.scope)["before_commit"] = lambda session: _mark_committed(session, idem)
            return
    raise IdempotencyKeyInUse(
        "Another request with this Idempotency-Key is being handled; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _insert(session: AsyncSession, values: dict[str, Any]) -> int:
    result = cast(CursorResult[Any], await session.execute(insert(IdempotencyKey).values(**values)))
    key_id = result.inserted_primary_key
    assert key_id is not None
    return int(key_id[0])


async def _find(session: AsyncSession, principal: str, key: str) -> IdempotencyKey | None:
    return await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.principal == principal, IdempotencyKey.key == key
        )
    )


async def _stale(db: Database, row: IdempotencyKey, now: datetime) -> bool:
    """Delete the row if it may be claimed anew: expired, or a claim whose lease ended and
    whose work never committed (its process died). Several retries may race to delete it;
    the insert that follows decides between them."""
    expired = row.expires_at <= now
    abandoned = row.status_code is None and not row.committed and row.locked_until <= now
    if not (expired or abandoned):
        return False
    statement = delete(IdempotencyKey).where(IdempotencyKey.id == row.id)
    if not expired:
        statement = statement.where(
            IdempotencyKey.status_code.is_(None),
            IdempotencyKey.committed.is_(False),
            IdempotencyKey.locked_until <= now,
        )
    await db.run(lambda s: s.execute(statement))
    return True


def _judge(row: IdempotencyKey, line: str, fingerprint: str, now: datetime) -> None:
    """Raise unless the row holds an answer to replay for this very request."""
    if row.request != line:
        raise IdempotencyKeyReused(
            f"This Idempotency-Key was used for another request ({row.request}); "
            "use a new key for a new request"
        )
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with a different body or query; "
            "use a new key for a new request"
        )
    if row.status_code is not None:
        if row.body is None:
            location = next(
                (value for name, value in row.headers or [] if name.lower() == "location"), None
            )
            raise IdempotentAnswerNotKept(
                "The first request with this Idempotency-Key succeeded; its answer held a "
                "secret shown once and is not kept",
                headers={"Location": location} if location else None,
            )
        return
    if row.committed and row.locked_until <= now:
        raise IdempotencyOutcomeUnknown(
            "The first request with this Idempotency-Key saved its work, but its answer was "
            "lost; look the result up, and use a new key for a new request"
        )
    raise IdempotencyKeyInUse(
        "The first request with this Idempotency-Key is still being handled; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _mark_committed(session: AsyncSession, idem: Idempotency) -> None:
    """In the request's own transaction, with its work: if that commits, so does this."""
    await session.execute(
        update(IdempotencyKey).where(IdempotencyKey.id == idem.claim_id).values(committed=True)
    )


async def prune(db: Database) -> int:
    """Delete expired keys (housekeeping; an expired key is also replaced at its next use)."""
    statement = delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow())
    result = await db.run(lambda s: s.execute(statement))
    return int(getattr(result, "rowcount", 0) or 0)


def _keeps_answer(scope: Scope) -> bool:
    return not any(
        d.dependency is keeps_no_answer for d in getattr(scope.get("route"), "dependencies", ())
    )


class IdempotentPosts:
    """Watches POSTs that carry an `Idempotency-Key`: hashes the request as it streams in,
    keeps the answer of a claimed key, replays a kept one, frees the key on a 5xx or a crash.
    Sits inside the body limit, so what it reads is limited as the route's body is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER.lower().encode()) if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        idem = Idempotency(key.decode("latin-1").strip(), scope, receive)
        _state(scope)["idempotency"] = idem
        db: Database = scope["app"].state.db
        start: Message = {}
        chunks: list[bytes] = []

        async def keep_and_send(message: Message) -> None:
            if idem.claim_id is not None and not idem.settled:
                if message["type"] == "http.response.start":
                    start.update(message)
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        # Kept before the last byte goes: a client that has the answer finds
                        # it kept when it retries.
                        await _settle(db, idem, start, b"".join(chunks), _keeps_answer(scope))
            await send(message)

        try:
            await self.app(scope, idem.receive, keep_and_send)
        except _Replay:
            await _replay(idem.replay, send)
        except BaseException:
            if idem.claim_id is not None and not idem.settled:
                with anyio.CancelScope(shield=True):
                    await _release(db, idem)
            raise
        finally:
            idem.close()


async def _settle(
    db: Database, idem: Idempotency, start: Message, body: bytes, keeps_answer: bool
) -> None:
    idem.settled = True
    status = int(start.get("status", 500))
    if status >= 500 or len(body) > MAX_KEPT_BODY:
        await _release(db, idem)
        return
    headers = [
        [name.decode("latin-1"), value.decode("latin-1")]
        for name, value in start.get("headers", [])
        if name.decode("latin-1").lower() not in _NOT_KEPT
    ]
    statement = (
        update(IdempotencyKey)
        .where(IdempotencyKey.id == idem.claim_id)
        .values(status_code=status, headers=headers, body=body if keeps_answer else None)
    )
    await _quietly(db, lambda s: s.execute(statement), "idempotency_answer_not_kept")


async def _release(db: Database, idem: Idempotency) -> None:
    """Free the key for a retry, unless the work committed (then a retry must not redo it)."""
    idem.settled = True
    statement = delete(IdempotencyKey).where(
        IdempotencyKey.id == idem.claim_id, IdempotencyKey.committed.is_(False)
    )
    await _quietly(db, lambda s: s.execute(statement), "idempotency_key_not_released")


async def _quietly(
    db: Database, work: Callable[[AsyncSession], Awaitable[Any]], event: str
) -> None:
    # The answer is on its way either way; a key left claimed ends with its lease.
    try:
        await db.run(work)
    except Exception as exc:
        log.warning(event, error=str(exc))


async def _replay(row: IdempotencyKey, send: Send) -> None:
    body = row.body or b""
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in row.headers or []
    ]
    headers += [(b"content-length", str(len(body)).encode()), (REPLAYED.lower().encode(), b"true")]
    await send({"type": "http.response.start", "status": row.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
