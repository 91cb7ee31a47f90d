"""Lindris's error shape, Laravel's: ``{"message": ...}``, plus ``errors`` (field → messages)
for a 422."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from cartwheel.exceptions import AppError, RateLimited, ValidationFailed
from cartwheel.kit.routing import apply_headers


def render_error(request: Request, exc: AppError) -> Response:
    body: dict[str, Any] = {"message": exc.message}
    if isinstance(exc, ValidationFailed):
        body["errors"] = exc.errors
    elif isinstance(exc, RateLimited):
        # Laravel's throttle middleware answers with this text (and the same headers).
        body["message"] = "Too Many Attempts."
    return apply_headers(JSONResponse(body, status_code=exc.status_code), exc)


def route_not_found(request: Request) -> str:
    """Laravel's message for a path no route matches."""
    return f"The route {request.url.path.strip('/')} could not be found."
