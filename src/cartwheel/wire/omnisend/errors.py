"""Omnisend's error shape: ``{"error": ..., "statusCode": ...}`` plus ``fields`` (path →
messages) for invalid fields."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cartwheel.exceptions import AppError, ValidationFailed
from cartwheel.kit.routing import apply_headers


def render_error(_request: Request, exc: AppError) -> Response:
    body: dict[str, Any] = {"error": exc.message, "statusCode": exc.status_code}
    if isinstance(exc, ValidationFailed):
        body["fields"] = exc.errors
    return apply_headers(JSONResponse(body, status_code=exc.status_code), exc)
