"""CORS preflights for the endpoints a browser calls with a public client credential.

A preflight carries no credential, so it is answered for any well-formed http(s) origin:
answering reveals nothing and grants nothing. Which origins a credential allows is enforced
on the real request, whose answer carries ``Access-Control-Allow-Origin`` only for them."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import Response

from cartwheel.exceptions import Forbidden


def well_formed_origin(origin: str | None) -> bool:
    """An ``http(s)://host[:port]`` origin with no path."""
    if not origin:
        return False
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.path.strip("/")


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
