"""Query parameters parsed by hand, like ``limit``/``skip``: a bad value is this API's 400
with a message naming the parameter, never FastAPI's 422, and a value the database cannot
hold (an id past 32 bits, a timestamp past year 9999) never reaches it."""

from __future__ import annotations

from datetime import UTC, datetime

from cartwheel.exceptions import BadRequest

#: Largest value of an ``Integer`` primary key on PostgreSQL; anything larger names nothing.
MAX_ID = 2**31 - 1


def is_record_id(value: int) -> bool:
    """Whether ``value`` can be the id of a row (larger values would overflow PostgreSQL)."""
    return 0 < value <= MAX_ID


def int_param(name: str, raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"The {name} parameter must be an integer.") from None


def bool_param(name: str, raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise BadRequest(f"The {name} parameter must be true or false.")


def choice_param(name: str, raw: str | None, choices: tuple[str, ...]) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise BadRequest(f"The {name} parameter must be one of: {', '.join(choices)}.")
    return raw


def timestamp_param(name: str, raw: str | None) -> datetime | None:
    """A Unix timestamp in seconds, as an aware UTC datetime."""
    seconds = int_param(name, raw)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(f"The {name} parameter must be a Unix timestamp in seconds.") from None
