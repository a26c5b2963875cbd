"""Where a webhook may point, and how a delivery is signed.

A subscription's URL is http(s) and, unless WEBHOOK_ALLOW_PRIVATE, every address its host
resolves to is public: not private, loopback, link-local, shared (CGNAT), multicast, reserved
or unspecified, IPv4 inside IPv6 included. The check runs when the URL is saved and again before
every attempt, and the attempt connects to the very address that was checked (the host goes in
`Host` and, for https, in the TLS server name), so a name that resolves elsewhere between the
check and the connection (DNS rebinding) cannot steer a delivery inside the network.

Signature: `Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(ValueError):
    """The URL may not receive webhooks. `final`: it never will (not retried)."""

    def __init__(self, message: str, *, final: bool = True) -> None:
        super().__init__(message)
        self.final = final


@dataclass(frozen=True)
class Target:
    url: str  # what to connect to: the checked address in place of the host, when pinned
    host: str | None  # the original host for `Host` and the TLS server name, when pinned


# IPv6 ranges that carry an IPv4 address a gateway may forward to (NAT64, 6to4, the old
# IPv4-compatible form): Python before 3.11.10 / 3.12.4 counts some of them global
# (CVE-2024-4032), so they are refused here whatever the standard library says.
_EMBEDS_IPV4 = tuple(
    ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96")
)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif any(address in network for network in _EMBEDS_IPV4):
            return False
    return address.is_global and not address.is_multicast


def parse(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or UrlRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("only http and https URLs are allowed")
    if not parts.hostname:
        raise UrlRefused("the URL has no host")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int, wait_s: float) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(wait_s):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise UrlRefused(f"the host {host!r} does not resolve ({exc})", final=False) from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UrlRefused(f"the host {host!r} does not resolve", final=False)
    return addresses


async def check(url: str, settings: Settings) -> Target:
    """The URL to connect to, once it may receive webhooks; UrlRefused otherwise."""
    _, host, port = parse(url)
    if settings.webhook_allow_private:
        return Target(url, None)
    addresses = await resolve(host, port, settings.webhook_dns_timeout_seconds)
    refused = [str(a) for a in addresses if not is_public(a)]
    if refused:
        raise UrlRefused(
            f"the host {host!r} resolves to an address that is not public "
            f"({', '.join(refused)}); set WEBHOOK_ALLOW_PRIVATE=true to allow it"
        )
    return Target(_pinned(url, host, addresses[0]), host)


def _pinned(url: str, host: str, address: IPAddress) -> str:
    parts = urlsplit(url)
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    if "@" in parts.netloc:  # credentials in the URL go with it
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    return parts._replace(netloc=netloc).geturl()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (docs/Webhooks.md): the same HMAC, compared in constant time,
    and a timestamp close to now (a replayed delivery is refused)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
