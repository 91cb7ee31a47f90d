"""Server-side request forgery guard for webhook targets.

A target is checked twice: when it is saved (every address its host resolves to) and again
at delivery time, inside the HTTP client's connect step, on the very addresses the socket
then connects to — so a DNS answer that changes between the two (DNS rebinding) cannot
steer a delivery into the private network.

- Link-local addresses (169.254.0.0/16 and fe80::/10: cloud metadata services) are refused
  always, as are multicast addresses.
- Every other non-global address (RFC 1918, loopback, unique-local, carrier-grade NAT,
  unspecified…) is refused unless ``webhook_allow_private`` is set.
- IPv6 forms that embed an IPv4 address are judged by every IPv4 address they may carry:
  IPv4-compatible ``::a.b.c.d``, mapped ``::ffff:a.b.c.d``, translated ``::ffff:0:a.b.c.d``,
  NAT64 ``64:ff9b::/96`` and the local-use ``64:ff9b:1::/48`` (every RFC 6052 position),
  6to4 ``2002::/16``, Teredo ``2001::/32`` (server and client) and ISATAP-style interface
  identifiers ``…:5efe:a.b.c.d`` (judged together with the IPv6 address itself, whose
  prefix may be anything).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_LOW32 = 0xFFFFFFFF
MAX_TARGET_LENGTH = 2048


class TargetRefused(Exception):
    """The target may not be called; ``message`` says why, for the merchant."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def judged_addresses(address: IPAddress) -> list[IPAddress]:
    """The addresses a request to ``address`` may really reach: the IPv4 addresses an IPv6
    form embeds (instead of the IPv6 address, for the fixed prefixes that only carry one),
    or the address itself."""
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    value = int(address)
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _COMPATIBLE or address in _TRANSLATED or address in _NAT64:
        return [ipaddress.IPv4Address(value & _LOW32)]
    if address in _NAT64_LOCAL:
        return _nat64_local(value)
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    if (value >> 32) & 0xFCFFFFFF == 0x00005EFE:  # ISATAP interface id, u/g bits free
        return [address, ipaddress.IPv4Address(value & _LOW32)]
    return [address]


def _nat64_local(value: int) -> list[IPAddress]:
    """The IPv4 address at every RFC 6052 position a local-use /48 prefix may have been
    extended to (/48, /56, /64, /96); bits 64-71 (the "u" octet) never carry address bits."""
    u_free = ((value >> 72) << 64) | (value & ((1 << 64) - 1))  # bits 64-71 removed
    return [
        ipaddress.IPv4Address((u_free >> (120 - 48 - 32)) & _LOW32),  # bits 48-79 of u_free
        ipaddress.IPv4Address((u_free >> (120 - 56 - 32)) & _LOW32),
        ipaddress.IPv4Address((u_free >> (120 - 64 - 32)) & _LOW32),
        ipaddress.IPv4Address(value & _LOW32),
    ]


def check_address(address: IPAddress, allow_private: bool) -> None:
    """Raise :class:`TargetRefused` unless a request may be sent to ``address``."""
    judged = judged_addresses(address)
    if any(ip.is_link_local for ip in judged):
        raise TargetRefused(
            f"The target resolves to a link-local address ({address}); "
            "such targets are never allowed."
        )
    if any(ip.is_multicast for ip in judged):
        raise TargetRefused(
            f"The target resolves to a multicast address ({address}); "
            "such targets are never allowed."
        )
    if any(not ip.is_global for ip in judged) and not allow_private:
        raise TargetRefused(
            f"The target resolves to a private or loopback address ({address}); "
            "such targets are not allowed."
        )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in the resolver's order, without repeats."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused("The target host could not be resolved.") from None
    addresses: list[IPAddress] = []
    for info in infos:
        # Drop an IPv6 zone ("fe80::1%eth0"): the address itself is what is judged.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused("The target host could not be resolved.")
    return addresses


def target_problem(url: str) -> str | None:
    """Why ``url`` is not a usable webhook target (its shape only), or None."""
    if len(url) > MAX_TARGET_LENGTH:
        return f"The target may not be longer than {MAX_TARGET_LENGTH} characters."
    invalid = "The target must be a valid http or https URL."
    if any(ch.isspace() for ch in url):
        return invalid
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return invalid
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return invalid
    if port == 0:
        return invalid
    return None


def loggable_target(url: str) -> str:
    """``url`` as it may be logged: scheme, host, port and path, without credentials, query
    or fragment (where receivers put their tokens)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(invalid target)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}"


def host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def check_target(url: str, allow_private: bool) -> None:
    """Resolve the target's host and check every address (at creation and update)."""
    host, port = host_and_port(url)
    for address in resolve(host, port):
        check_address(address, allow_private)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, resolving and checking the host itself and connecting to
    the checked address (TLS still verifies the certificate against the host name)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        for address in addresses:
            check_address(address, self.allow_private)
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error
