"""One error tree. Services raise these; each wire format renders them in its own shape
(see :mod:`cartwheel.kit.routing`). Anything that is not an ``AppError`` is a bug."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code: int = 400
    #: A short, stable machine-readable title (RFC 7807 ``title``).
    title: str = "Bad Request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(AppError):
    status_code = 400
    title = "Bad Request"


class Unauthorized(AppError):
    status_code = 401
    title = "Unauthorized"

    def __init__(self, message: str = "Unauthenticated.") -> None:
        super().__init__(message)


class Forbidden(AppError):
    status_code = 403
    title = "Forbidden"


class NotFound(AppError):
    status_code = 404
    title = "Not Found"

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class Conflict(AppError):
    status_code = 409
    title = "Conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    title = "Payload Too Large"


class UnsupportedMediaType(AppError):
    status_code = 415
    title = "Unsupported Media Type"


class ValidationFailed(AppError):
    """Field-level validation errors: ``errors`` maps a field path to its messages."""

    status_code = 422
    title = "Unprocessable Entity"

    def __init__(
        self, errors: dict[str, list[str]], message: str = "The given data was invalid."
    ) -> None:
        super().__init__(message)
        self.errors = errors


class RateLimited(AppError):
    status_code = 429
    title = "Too Many Requests"

    def __init__(self, *, limit: int, retry_after: int, reset: int) -> None:
        super().__init__(
            "Rate limit exceeded.",
            headers={
                "Retry-After": str(retry_after),
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
            },
        )


def first_message(errors: dict[str, Any]) -> str:
    for messages in errors.values():
        if messages:
            return str(messages[0])
    return "The given data was invalid."


class InvalidRequest(ValidationFailed):
    """Field-level errors answered with 400, for the formats that use 400 (not 422) for a
    request that breaks their schema."""

    status_code = 400
    title = "Bad Request"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors, first_message(errors))
