"""Splitting event data into segmentable properties and non-segmentable extra, typing
values (ISO-8601 strings become dates), and the size limits checked before any work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from cartwheel.exceptions import BadRequest

# RFC 3339 / ISO 8601 date-times and plain dates: 2026-04-02T12:00:00Z, 2026-04-02.
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?)?$"
)


def parse_iso_datetime(value: str) -> datetime | None:
    """The datetime an ISO-8601 string names (UTC when it names no offset), or None."""
    if not _ISO_DATETIME.match(value):
        return None
    text = value.replace("z", "Z").replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def type_of(value: Any) -> str | None:
    """The segmentation type of a top-level scalar, or None if it is not a scalar."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "date" if parse_iso_datetime(value) else "string"
    return None


@dataclass(slots=True)
class SplitProperties:
    properties: dict[str, Any]
    property_types: dict[str, str]
    extra: dict[str, Any]


def split_properties(data: dict[str, Any], extra: dict[str, Any] | None = None) -> SplitProperties:
    """Top-level scalars are segmentable (dates normalized to UTC ISO strings); nested
    objects and arrays go to ``extra``. ``None`` values are kept as untyped properties."""
    properties: dict[str, Any] = {}
    types: dict[str, str] = {}
    extra_out: dict[str, Any] = dict(extra or {})
    for key, value in data.items():
        kind = type_of(value)
        if kind is None and value is not None:
            extra_out[key] = value
            continue
        if kind == "date":
            parsed = parse_iso_datetime(value)
            assert parsed is not None
            value = parsed.isoformat().replace("+00:00", "Z")
        properties[key] = value
        if kind:
            types[key] = kind
    return SplitProperties(properties, types, extra_out)


class LimitExceeded(BadRequest):
    """A payload limit was exceeded (property count or string length)."""


class TooManyProperties(LimitExceeded):
    """More top-level properties than ``limit`` in the object at ``path``."""

    def __init__(self, path: str, count: int, limit: int) -> None:
        super().__init__(f"Too many properties: {count} (the limit is {limit}).")
        self.path = path
        self.count = count
        self.limit = limit


class Part(NamedTuple):
    """A part of a decoded request that the payload limits apply to."""

    #: The value (builtins); anything but a dict or list has nothing to count.
    data: Any
    #: Where it sits in the request, as messages name it ("" for the top of ``data``).
    path: str = ""
    #: Count its top-level properties against ``max_properties``.
    counted: bool = False
    #: Check every string in it, at any depth, against ``max_string_bytes`` (and for NUL).
    strings: bool = True


def check_limits(part: Part, max_properties: int, max_string_bytes: int) -> None:
    """Raise :class:`LimitExceeded` if ``part`` breaks a payload limit."""
    data = part.data
    if part.counted and isinstance(data, dict) and len(data) > max_properties:
        raise TooManyProperties(part.path, len(data), max_properties)
    if part.strings and data is not None:
        _check_strings(data, max_string_bytes, part.path)


def _check_strings(value: Any, max_bytes: int, path: str) -> None:
    if isinstance(value, str):
        # Cheap length test first: a str of n chars is at most 4n bytes.
        if len(value) * 4 > max_bytes and len(value.encode()) > max_bytes:
            where = path or "value"
            raise LimitExceeded(f"The string at {where} exceeds {max_bytes} bytes.")
        # PostgreSQL text and jsonb cannot hold NUL: refuse it here rather than fail the write.
        if "\x00" in value:
            raise LimitExceeded(f"The string at {path or 'value'} contains a NUL character.")
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                raise LimitExceeded(f"The property name at {where!r} contains a NUL character.")
            _check_strings(item, max_bytes, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, max_bytes, f"{path}[{index}]")
