"""Cartwheel's own error shape (also the store data API's): ``{"success": false, "message"}``
plus ``errors`` (field → messages) for validation failures."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cartwheel.exceptions import AppError, ValidationFailed, first_message
from cartwheel.kit.routing import apply_headers, wire_router


class ErrorResponse(BaseModel):
    success: bool = Field(default=False, description="Always false for an error.")
    message: str = Field(description="What went wrong, for a human.")
    errors: dict[str, list[str]] | None = Field(
        default=None, description="Field-level messages, for validation errors."
    )


def render_native(_request: Request, exc: AppError) -> Response:
    body: dict[str, Any] = {"success": False, "message": exc.message}
    if isinstance(exc, ValidationFailed):
        body["message"] = first_message(exc.errors)
        body["errors"] = exc.errors
    return apply_headers(JSONResponse(body, status_code=exc.status_code), exc)


def native_router(**kwargs: Any) -> Any:
    """A router for Cartwheel's own API: errors in the native shape."""
    return wire_router(render_native, **kwargs)


#: OpenAPI ``responses`` for the error statuses every authenticated native endpoint has.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad request"},
    401: {"model": ErrorResponse, "description": "Missing or invalid API key"},
    404: {"model": ErrorResponse, "description": "Not found (or not in this store)"},
    422: {"model": ErrorResponse, "description": "Validation failed"},
    429: {"model": ErrorResponse, "description": "Rate limit exceeded"},
}
