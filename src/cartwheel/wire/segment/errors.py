"""The tracking API's error shape: ``{"success": false, "code", "message"}`` (the server SDKs
read ``code`` and ``message``), plus ``errors`` (field path → messages) for an invalid
message and ``rejected`` for a batch none of whose messages was stored. Browser calls get
``Access-Control-Allow-Origin`` on errors too, so the library can read them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cartwheel.exceptions import AppError, ValidationFailed
from cartwheel.kit.routing import apply_headers

#: ``code`` by HTTP status.
CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


class BatchRejected(AppError):
    """No message of a batch was stored: 400 with every message's reason."""

    status_code = 400
    title = "Bad Request"

    def __init__(self, rejected: list[dict[str, Any]]) -> None:
        super().__init__(f"No message was stored: {rejected[0]['message']}")
        self.rejected = rejected


def cors_headers(request: Request) -> dict[str, str]:
    """A browser page may read the answer: the write key is public there anyway."""
    return {"Access-Control-Allow-Origin": "*"} if "origin" in request.headers else {}


def render_error(request: Request, exc: AppError) -> Response:
    status = exc.status_code
    body: dict[str, Any] = {
        "success": False,
        "code": CODES.get(status, "error"),
        "message": exc.message,
    }
    if isinstance(exc, ValidationFailed):
        body["errors"] = exc.errors
    if isinstance(exc, BatchRejected):
        body["rejected"] = exc.rejected
    # The format answers a refused message with 400, as the spec's libraries expect (they
    # do not retry it); the core's 422 becomes 400 here.
    status = 400 if status == 422 else status
    response = JSONResponse(body, status_code=status, headers=cors_headers(request))
    return apply_headers(response, exc)
