"""Redo's errors: RFC 7807 problem details, with the content type its document declares for
each status (``application/json`` for 400, 404 and 429; ``application/problem+json`` for
its ``default`` response, i.e. any other status), and the core's errors in Redo's words."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cartwheel.exceptions import AppError, InvalidRequest, NotFound, ValidationFailed
from cartwheel.ingest.properties import LimitExceeded, TooManyProperties
from cartwheel.kit.routing import apply_headers

PROBLEM_JSON = "application/problem+json"
_DECLARED_JSON = frozenset({400, 404, 429})


class BulkRejected(AppError):
    """A bulk request none of whose events could be accepted."""

    status_code = 400
    title = "Bad Request"

    def __init__(self, results: list[dict[str, Any]]) -> None:
        super().__init__("No event was accepted: every event of the request was rejected.")
        self.results = results


def problem_media_type(status: int) -> str:
    return "application/json" if status in _DECLARED_JSON else PROBLEM_JSON


def translate(error: AppError) -> AppError:
    """An error of the core in Redo's words.

    Only an unknown ``customer.id`` with nothing else to go by is refused by the resolver;
    the document promises no 404 for it, so it is a 400 naming the field."""
    if isinstance(error, TooManyProperties):
        return LimitExceeded(
            f"{error.path} must not exceed {error.limit} properties (it has {error.count})."
        )
    if isinstance(error, NotFound):
        return InvalidRequest(
            {
                "customer.id": [
                    "customer.id matches no customer; add customer.email or "
                    "customer.phoneNumber so that one can be created."
                ]
            }
        )
    return error


def render_error(_request: Request, exc: AppError) -> Response:
    if isinstance(exc, TooManyProperties):
        exc = translate(exc)
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": exc.title,
        "status": exc.status_code,
        "detail": exc.message,
    }
    if isinstance(exc, ValidationFailed):
        body["errors"] = field_errors(exc)
    if isinstance(exc, BulkRejected):
        body["results"] = exc.results
    response = JSONResponse(
        body, status_code=exc.status_code, media_type=problem_media_type(exc.status_code)
    )
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return apply_headers(response, exc)


def field_errors(exc: ValidationFailed) -> list[dict[str, str]]:
    return [
        {"field": field, "message": message}
        for field, messages in exc.errors.items()
        for message in messages
    ]
