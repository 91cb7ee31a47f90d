"""Splitting event data into segmentable properties and non-segmentable extra, typing
values (ISO-8601 strings become dates), and the size limits checked before any work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from cartwheel.exceptions import BadRequest
from cartwheel.text import CONTROL_CHARACTERS

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
    """A payload limit was exceeded (property count, string length or nesting depth)."""


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
    #: Check every value in it, at any depth: strings against ``max_string_bytes`` (and for
    #: NUL), the nesting of objects and arrays against ``max_depth``.
    strings: bool = True
    #: Levels of the event's own structure above ``data`` (1 for a part inside the event's
    #: object, such as native's ``properties``; 0 for the event itself).
    level: int = 0


def check_limits(part: Part, max_properties: int, max_string_bytes: int, max_depth: int) -> None:
    """Raise :class:`LimitExceeded` if ``part`` breaks a payload limit. Depth counts
    objects and arrays from the event's top (``{"a": {"b": 1}}`` as the event is 2 levels);
    the body decoder has already bounded it (:data:`cartwheel.kit.body.MAX_BODY_DEPTH`), so
    the walk's recursion is bounded too."""
    data = part.data
    if part.counted and isinstance(data, dict) and len(data) > max_properties:
        raise TooManyProperties(part.path, len(data), max_properties)
    if part.strings and data is not None:
        try:
            _check_values(data, max_string_bytes, part.path, max_depth - part.level)
        except _Deeper as exc:
            raise TooDeep(exc.path, max_depth) from None


def _check_values(value: Any, max_bytes: int, path: str, depth_left: int) -> None:
    if isinstance(value, str):
        # Cheap length test first: a str of n chars is at most 4n bytes.
        if len(value) * 4 > max_bytes and len(value.encode()) > max_bytes:
            where = path or "value"
            raise LimitExceeded(f"The string at {where} exceeds {max_bytes} bytes.")
        # PostgreSQL text and jsonb cannot hold NUL: refuse it here rather than fail the write.
        if "\x00" in value:
            raise LimitExceeded(f"The string at {path or 'value'} contains a NUL character.")
    elif isinstance(value, dict):
        if depth_left < 1:
            raise _Deeper(path)
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            # A name is a single line (it becomes a segment field, a template variable).
            if CONTROL_CHARACTERS.search(str(key)):
                raise LimitExceeded(f"The property name at {where!r} contains a control character.")
            _check_values(item, max_bytes, where, depth_left - 1)
    elif isinstance(value, list):
        if depth_left < 1:
            raise _Deeper(path)
        for index, item in enumerate(value):
            _check_values(item, max_bytes, f"{path}[{index}]", depth_left - 1)


class TooDeep(LimitExceeded):
    """An object or array at ``path`` nested deeper than ``CARTWHEEL_MAX_JSON_DEPTH``."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(f"The value at {path or 'body'} is nested deeper than {limit} levels.")
        self.path = path
        self.limit = limit


class _Deeper(Exception):
    """Raised by the walk, which does not carry the limit; becomes :class:`TooDeep`."""

    def __init__(self, path: str) -> None:
        self.path = path


#: How deep a stored value is shown: above any ``CARTWHEEL_MAX_JSON_DEPTH`` (at most 56),
#: below the depth at which serializing a response fails (pydantic's is 255 levels).
SHOWN_DEPTH = 64
#: What stands in for an object or array nested deeper than :data:`SHOWN_DEPTH`.
CLIPPED = "(nested too deeply to show)"


def clip_depth(value: Any, depth: int = SHOWN_DEPTH) -> Any:
    """``value`` with every object or array below ``depth`` levels replaced by
    :data:`CLIPPED`: what a view shows of a value stored before the nesting limit existed."""
    if isinstance(value, dict):
        if depth < 1:
            return CLIPPED
        return {key: clip_depth(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list):
        return [clip_depth(item, depth - 1) for item in value] if depth >= 1 else CLIPPED
    return value
