"""Voucherify's error shape, ``{"code", "key", "message", "details", "request_id"}``, with
its error keys, and the CORS headers of an answer to an allowed origin."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cartwheel.exceptions import (
    AppError,
    RateLimited,
    Unauthorized,
    ValidationFailed,
    first_message,
)
from cartwheel.kit.routing import apply_headers

ALLOWED_HEADERS = "Content-Type, X-Client-Application-Id, X-Client-Token, X-Voucherify-Channel"
EXPOSED_HEADERS = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"


class VoucherifyError(AppError):
    """An error with one of Voucherify's documented error keys."""

    def __init__(self, status: int, key: str, message: str, details: str) -> None:
        super().__init__(details)
        self.status_code = status
        self.key = key
        self.short = message


def invalid_payload(details: str) -> VoucherifyError:
    return VoucherifyError(400, "invalid_payload", "Invalid payload", details)


def invalid_customer(details: str) -> VoucherifyError:
    return VoucherifyError(400, "invalid_customer", "Invalid customer", details)


# status → (key, message) for errors raised by the shared core.
_CORE_KEYS: dict[int, tuple[str, str]] = {
    400: ("invalid_payload", "Invalid payload"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Resource not found"),
    413: ("query_too_large", "Request too large"),
    422: ("invalid_payload", "Invalid payload"),
    429: ("too_many_requests", "API limit reached"),
}


def render_error(request: Request, exc: AppError) -> Response:
    status = 400 if isinstance(exc, ValidationFailed) else exc.status_code
    if isinstance(exc, VoucherifyError):
        key, message = exc.key, exc.short
    else:
        key, message = _CORE_KEYS.get(status, ("error", exc.title))
    details = first_message(exc.errors) if isinstance(exc, ValidationFailed) else exc.message
    if isinstance(exc, Unauthorized):
        details = "Missing or invalid client application id or client token."
    body = {
        "code": status,
        "key": key,
        "message": message,
        "details": details,
        "request_id": "v-" + secrets.token_hex(9),
    }
    response = apply_headers(JSONResponse(body, status_code=status), exc)
    # The origin passed its credential's check iff the request got as far as the rate limit.
    if hasattr(request.state, "quota") or isinstance(exc, RateLimited):
        allow_origin(response, request.headers.get("origin"))
    return response


def allow_origin(response: Response, origin: str | None) -> None:
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    response.headers["Vary"] = "Origin"
