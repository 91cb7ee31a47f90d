"""Per-wire-format error rendering.

Each wire format (Lindris, Redo, the native API…) documents its own error shape. A router
built with :func:`wire_router` renders every :class:`AppError` — and FastAPI's own request
validation errors — with that format's renderer, so no vendor shape leaks into the core and
no expected failure becomes a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from cartwheel.exceptions import AppError, ValidationFailed

log = logging.getLogger(__name__)

ErrorRenderer = Callable[[Request, AppError], Response]


def validation_errors(exc: RequestValidationError) -> ValidationFailed:
    """FastAPI/pydantic validation errors as a field → messages map."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        errors.setdefault(field, []).append(str(error.get("msg", "Invalid value.")))
    return ValidationFailed(errors)


def wire_router(render: ErrorRenderer, **kwargs: Any) -> APIRouter:
    """An ``APIRouter`` whose routes render errors with ``render``."""

    class WireRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route_handler(request: Request) -> Response:
                try:
                    return await handler(request)
                except AppError as exc:
                    response = render(request, exc)
                except RequestValidationError as exc:
                    response = render(request, validation_errors(exc))
                return response

            return route_handler

    return APIRouter(route_class=WireRoute, **kwargs)


def apply_headers(response: Response, exc: AppError) -> Response:
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response
