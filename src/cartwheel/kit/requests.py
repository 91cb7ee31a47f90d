"""Reading store data API requests: JSON bodies validated against a pydantic model with
readable messages, and the integer query filters (Unix timestamps, ids).

Every store data API domain (contacts, members, forms, bookings, lists, catalog, orders)
shares these. Bodies are read by hand (size checked first, msgspec) and documented with
``kit.openapi.json_body``; a bad query filter is a 400 like a bad ``limit``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

from cartwheel.exceptions import BadRequest, ValidationFailed
from cartwheel.kit.app import app_context
from cartwheel.kit.body import read_json
from cartwheel.kit.ids import MAX_ID

M = TypeVar("M", bound=BaseModel)

#: The largest Unix timestamp accepted (9999-12-31T23:59:59Z).
MAX_TIMESTAMP = 253_402_300_799
#: The largest id of the store's own (a 64-bit integer), such as a booking's event id.
MAX_EXTERNAL_ID = 2**63 - 1

#: A Unix timestamp in seconds.
Timestamp = Annotated[int, Field(ge=0, le=MAX_TIMESTAMP)]
#: An id in a request body.
Id = Annotated[int, Field(ge=0, le=MAX_ID)]


def is_id(value: int) -> bool:
    """Can ``value`` be a row id? (Out-of-range ids answer 404, like missing ones.)"""
    return 0 < value <= MAX_ID


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object body (size-checked before reading)."""
    data = await read_json(request, app_context(request).settings.max_body_bytes)
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


JsonObject = Annotated[dict[str, Any], Depends(json_object)]


def validate(model: type[M], data: dict[str, Any]) -> M:
    """``data`` as ``model`` (strict JSON types), or a 422 naming every bad field."""
    # PostgreSQL stores NUL in neither text nor JSONB, and it never means anything.
    where = _nul_at(data, "")
    if where is not None:
        field = where or "body"
        raise ValidationFailed({field: [f"The {field} field must not contain NUL characters."]})
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "body"
            errors.setdefault(field, []).append(_message(field, error))
        raise ValidationFailed(errors) from None


def _nul_at(value: Any, path: str) -> str | None:
    """The path of the first string (value or key) holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return child
            items.append((child, item))
    elif isinstance(value, list):
        items = [(f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value)]
    for child, item in items:
        found = _nul_at(item, child)
        if found is not None:
            return found
    return None


def text_param(name: str, raw: str | None) -> str | None:
    """An optional text query parameter; NUL characters are a 400."""
    if raw is not None and "\x00" in raw:
        raise BadRequest(f"The {name} parameter must not contain NUL characters.")
    return raw


def _message(field: str, error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    subject = f"The {field} field"
    if kind == "missing":
        return f"{subject} is required."
    if kind == "invalid":  # our own checks (PydanticCustomError("invalid", "must …"))
        return f"{subject} {error['msg']}."
    if kind in ("string_type", "string_sub_type"):
        return f"{subject} must be a string."
    if kind == "bool_type":
        return f"{subject} must be true or false."
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"{subject} must be an integer."
    if kind in ("float_type", "float_parsing"):
        return f"{subject} must be a number."
    if kind == "list_type":
        return f"{subject} must be an array."
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{subject} must be an object."
    if kind == "string_too_short":
        if ctx["min_length"] == 1:
            return f"{subject} may not be empty."
        return f"{subject} must be at least {ctx['min_length']} characters."
    if kind == "string_too_long":
        return f"{subject} may not be greater than {ctx['max_length']} characters."
    if kind == "too_long":
        return f"{subject} may not have more than {ctx['max_length']} items."
    if kind == "too_short":
        return f"{subject} must have at least {ctx['min_length']} item(s)."
    if kind == "greater_than_equal":
        return f"{subject} must be at least {ctx['ge']}."
    if kind == "less_than_equal":
        return f"{subject} may not be greater than {ctx['le']}."
    if kind == "value_error":
        return f"{subject} {ctx['error']}."
    return f"{subject} is invalid."


# -- query filters -------------------------------------------------------------------------


def int_param(name: str, raw: str | None, *, maximum: int = MAX_ID) -> int | None:
    """An optional integer query parameter (0 or more); a bad value is this API's 400."""
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"The {name} parameter must be an integer.") from None
    if value < 0:
        raise BadRequest(f"The {name} parameter must be at least 0.")
    if value > maximum:
        raise BadRequest(f"The {name} parameter may not be greater than {maximum}.")
    return value


def timestamp_param(name: str, raw: str | None) -> datetime | None:
    """An optional Unix-seconds query parameter, as a UTC datetime."""
    value = int_param(name, raw, maximum=MAX_TIMESTAMP)
    return None if value is None else from_unix(value)


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def to_unix(moment: datetime) -> int:
    return int(moment.timestamp())
