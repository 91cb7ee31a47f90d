"""CORS preflights for the endpoints a browser calls with a public client credential.

A preflight carries no credential, so it is answered for any well-formed http(s) origin:
answering reveals nothing and grants nothing. Which origins a credential allows is enforced
on the real request, whose answer carries ``Access-Control-Allow-Origin`` only for them."""

from __future__ import annotations

import re
from typing import NamedTuple

from starlette.responses import Response

from cartwheel.exceptions import Forbidden

# scheme "://" host [":" port], nothing else: no path (not even "/"), query, fragment or
# user info. A host is a DNS name or a bracketed IPv6 address.
_ORIGIN = re.compile(
    r"(?:(?P<scheme>https?)://)?"
    r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?",
    re.IGNORECASE,
)


class Origin(NamedTuple):
    """An origin's parts: ``scheme`` is "" when the text named none (Voucherify's hostname
    form), ``port`` is None when it named none."""

    scheme: str
    host: str
    port: int | None

    @property
    def effective_port(self) -> int | None:
        """The port, or the scheme's default one."""
        return self.port if self.port is not None else _DEFAULT_PORTS.get(self.scheme)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(text: str | None) -> Origin | None:
    """``text`` as exactly ``[http(s)://]host[:port]``, or None. The one origin rule: the
    CORS preflight, the client credentials' allowed origins (``auth/cache.py``)."""
    if not text or len(text) > 300:
        return None
    match = _ORIGIN.fullmatch(text)
    if match is None:
        return None
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        return None
    return Origin((match["scheme"] or "").lower(), match["host"].lower(), port)


def well_formed_origin(origin: str | None) -> bool:
    """An ``http(s)://host[:port]`` origin: a scheme, and nothing after the host and port."""
    parsed = parse_origin(origin)
    return parsed is not None and bool(parsed.scheme)


def preflight(origin: str | None, method: str | None, allowed_headers: str) -> Response:
    """The 204 answer to a preflight for a POST, or :class:`Forbidden`."""
    if not well_formed_origin(origin) or (method or "").strip().upper() != "POST":
        raise Forbidden("CORS preflight refused.")
    assert origin is not None
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": allowed_headers,
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )
