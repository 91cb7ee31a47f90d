"""The fast lane: hot endpoints served by plain Starlette routes.

FastAPI's dependency resolution costs about as much per request as everything the ingest
endpoint does itself (measured: docs/performance.md). A hot endpoint is therefore declared
twice over one implementation: as a FastAPI route, which documents it in OpenAPI (and serves
it if the fast lane is absent), and as a :func:`fast_route` placed ahead of every other route
by ``create_app``, which serves it. Both call the same handler with the same authentication
and render errors with the same wire renderer; tests exercise the lane that serves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cartwheel.exceptions import AppError
from cartwheel.kit.routing import ErrorRenderer


def fast_route(
    path: str,
    handler: Callable[[Request], Awaitable[Response]],
    render: ErrorRenderer,
    *,
    methods: tuple[str, ...] = ("POST",),
) -> Route:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except AppError as exc:
            return render(request, exc)

    return Route(path, endpoint, methods=list(methods), include_in_schema=False)
