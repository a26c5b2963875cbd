"""Conditional reads: every JSON answer of a GET carries an `ETag`, and `If-None-Match` with a
tag that still matches answers 304 with no body (RFC 9110, 13.1.2).

A single resource's tag is its version (`with_etag`), the one `If-Match` takes back; a list's
(or any other JSON answer's) is a hash of its body, which is built in memory anyway. The route
still runs: a 304 saves the transfer and the client's parsing, not the query. Streamed and
file answers pass untouched.
"""

from __future__ import annotations

import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Headers a 304 keeps from the 200 it stands for (RFC 9110, 15.4.5); the rest describe a body.
_DROPPED = frozenset({b"content-length", b"content-type"})


def body_tag(body: bytes) -> bytes:
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


def matches(if_none_match: bytes, tag: bytes) -> bool:
    """Weak comparison, as If-None-Match asks: `W/"x"` matches `"x"`; `*` matches any."""
    wanted = if_none_match.strip()
    if wanted == b"*":
        return True
    bare = tag.removeprefix(b"W/")
    return any(part.strip().removeprefix(b"W/") == bare for part in wanted.split(b","))


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((value for key, value in headers if key.lower() == name), None)


class ConditionalGets:
    """Tags GET answers that are JSON, 200 and sent in one piece; answers 304 to a match."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if_none_match = _header(scope.get("headers", []), b"if-none-match")
        held: Message | None = None

        async def tag_and_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                content_type = (_header(headers, b"content-type") or b"").split(b";")[0]
                if (
                    message["status"] == 200
                    and content_type.strip().lower() == b"application/json"
                    and _header(headers, b"content-disposition") is None
                ):
                    held = message  # until the body shows whether it comes in one piece
                    return
                await send(message)
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            start, held = held, None
            body = message.get("body", b"")
            if message.get("more_body", False):  # streamed: passes as it is
                await send(start)
                await send(message)
                return
            headers = list(start.get("headers", []))
            tag = _header(headers, b"etag")
            if tag is None:
                tag = body_tag(body)
                headers.append((b"etag", tag))
            if if_none_match is not None and matches(if_none_match, tag):
                kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED]
                await send({"type": "http.response.start", "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send({**start, "headers": headers})
            await send(message)

        await self.app(scope, receive, tag_and_send)
