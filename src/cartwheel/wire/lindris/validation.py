"""A small Laravel-style validator for the Lindris request bodies.

Lindris is a Laravel application: its 422 bodies carry Laravel's default English messages
("The source field is required.", "The products.0.id field is required."). This module
reproduces the rules the document implies with those messages, so a client written against
Lindris gets the same answer here, field for field. One message per failing field.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from cartwheel.exceptions import ValidationFailed
from cartwheel.identity.addresses import is_valid_email
from cartwheel.ingest.properties import parse_iso_datetime

#: How a field is checked and cast:
#: ``id`` is the document's "mixed … Numeric values will be cast to strings";
#: ``strings`` a ``string[]`` list; ``object`` a nested record; ``objects`` a list of
#: records; ``map`` a free key-value array (the generic event's ``properties``).
Kind = Literal[
    "string",
    "id",
    "number",
    "integer",
    "boolean",
    "date",
    "email",
    "uuid",
    "strings",
    "object",
    "objects",
    "map",
]

# Laravel's default messages (resources/lang/en/validation.php).
REQUIRED = "The {attribute} field is required."
REQUIRED_WITHOUT = "The {attribute} field is required when {values} is not present."
STRING = "The {attribute} must be a string."
NUMERIC = "The {attribute} must be a number."
INTEGER = "The {attribute} must be an integer."
BOOLEAN = "The {attribute} field must be true or false."
ARRAY = "The {attribute} must be an array."
DATE = "The {attribute} is not a valid date."
EMAIL = "The {attribute} must be a valid email address."
UUID = "The {attribute} must be a valid UUID."
MAX_STRING = "The {attribute} must not be greater than {max} characters."
EXISTS = "The selected {attribute} is invalid."
FORMAT = "The {attribute} format is invalid."


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One documented request field: how it validates and how the OpenAPI document shows it."""

    name: str
    kind: Kind
    description: str
    example: Any = None
    required: bool = False
    #: Longest accepted string, where the value lands in a sized column.
    max_length: int | None = None
    #: Members of an ``object``, or of each item of ``objects``.
    fields: tuple[FieldSpec, ...] = ()
    #: A regular expression the whole string must match (Laravel's ``regex``).
    pattern: str | None = None


def laravel_input(value: Any) -> Any:
    """What Laravel's global middleware makes of a JSON body before validation: strings
    trimmed (TrimStrings), then empty strings turned into null (ConvertEmptyStringsToNull),
    at every depth."""
    if isinstance(value, str):
        value = value.strip(" \t\n\r\0\x0b")
        return value or None
    if isinstance(value, dict):
        return {key: laravel_input(item) for key, item in value.items()}
    if isinstance(value, list):
        return [laravel_input(item) for item in value]
    return value


def display_name(attribute: str) -> str:
    """Laravel's ``:attribute`` for an explicit rule key: ``Str::snake`` then underscores to
    spaces (``eventName`` → ``event name``, ``billing_address.first_name`` →
    ``billing address.first name``)."""
    words = "".join(word[:1].upper() + word[1:] for word in attribute.split())
    return _UPPER.sub(r"\1_", words).lower().replace("_", " ")


def is_blank(value: Any) -> bool:
    """Laravel's ``required`` fails for null, an empty string and an empty array."""
    return value is None or value == "" or value == [] or value == {}


class _Invalid:
    """Marks a value that failed validation (its error is already recorded)."""


INVALID = _Invalid()


class Validator:
    """Collects errors (field path → messages) while cleaning a body against its specs."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, key: str, attribute: str, template: str, **params: Any) -> None:
        self.errors.setdefault(key, []).append(template.format(attribute=attribute, **params))

    def raise_if_failed(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)

    def fields(
        self,
        specs: tuple[FieldSpec, ...],
        data: Mapping[str, Any],
        prefix: str = "",
        *,
        implicit: bool = False,
    ) -> dict[str, Any]:
        """The documented fields of ``data``, cast; undocumented keys are dropped (Laravel's
        ``validated()``). ``implicit`` marks members of a wildcard rule (``products.*.id``),
        whose attribute Laravel prints as the raw path (``products.0.id``)."""
        cleaned: dict[str, Any] = {}
        for spec in specs:
            key = prefix + spec.name
            attribute = key if implicit else display_name(key)
            value = data.get(spec.name)
            if is_blank(value) and (spec.required or _scalar(value) or spec.kind in _ARRAYS):
                if spec.required:
                    self.fail(key, attribute, REQUIRED)
                continue
            # A present empty array is validated like any value (only empty strings became
            # null): ``total: []`` is not a number.
            result = self.value(spec, value, key, attribute, implicit=implicit)
            if result is not INVALID:
                cleaned[spec.name] = result
        return cleaned

    def value(
        self, spec: FieldSpec, value: Any, key: str, attribute: str, *, implicit: bool
    ) -> Any:
        kind = spec.kind
        if kind == "id":
            value = cast_numeric(value)
        if kind in ("string", "id", "email", "uuid", "date"):
            return self._string(spec, value, key, attribute)
        if kind == "number":
            number = to_number(value)
            if number is None:
                self.fail(key, attribute, NUMERIC)
                return INVALID
            return number
        if kind == "integer":
            integer = to_integer(value)
            if integer is None:
                self.fail(key, attribute, INTEGER)
                return INVALID
            return integer
        if kind == "boolean":
            flag = to_boolean(value)
            if flag is None:
                self.fail(key, attribute, BOOLEAN)
                return INVALID
            return flag
        if kind == "map":
            if not isinstance(value, dict | list):
                self.fail(key, attribute, ARRAY)
                return INVALID
            return value
        if kind == "object":
            if not isinstance(value, dict):
                self.fail(key, attribute, ARRAY)
                return INVALID
            return self.fields(spec.fields, value, key + ".", implicit=implicit)
        items = _array_items(value)
        if items is None:
            self.fail(key, attribute, ARRAY)
            return INVALID
        if kind == "strings":
            return self._strings(items, key)
        return self._objects(spec, items, key)

    def _string(self, spec: FieldSpec, value: Any, key: str, attribute: str) -> Any:
        if not isinstance(value, str):
            self.fail(key, attribute, STRING)
            return INVALID
        if spec.max_length is not None and len(value) > spec.max_length:
            self.fail(key, attribute, MAX_STRING, max=spec.max_length)
            return INVALID
        if spec.kind == "email" and not is_valid_email(value):
            self.fail(key, attribute, EMAIL)
            return INVALID
        if spec.kind == "uuid" and not _UUID.match(value):
            self.fail(key, attribute, UUID)
            return INVALID
        if spec.pattern is not None and re.fullmatch(spec.pattern, value) is None:
            self.fail(key, attribute, FORMAT)
            return INVALID
        if spec.kind == "date":
            parsed = parse_date(value)
            if parsed is None:
                self.fail(key, attribute, DATE)
                return INVALID
            return iso(parsed)
        return value

    def _strings(self, items: list[tuple[str, Any]], key: str) -> list[str] | _Invalid:
        out: list[str] = []
        valid = True
        for index, item in items:
            if isinstance(item, str):
                out.append(item)
            else:
                self.fail(f"{key}.{index}", f"{key}.{index}", STRING)
                valid = False
        return out if valid else INVALID

    def _objects(
        self, spec: FieldSpec, items: list[tuple[str, Any]], key: str
    ) -> list[dict[str, Any]] | _Invalid:
        out: list[dict[str, Any]] = []
        before = len(self.errors)
        for index, item in items:
            path = f"{key}.{index}"
            if not isinstance(item, dict):
                self.fail(path, path, ARRAY)
                continue
            out.append(self.fields(spec.fields, item, path + ".", implicit=True))
        return out if len(self.errors) == before else INVALID


# -- casts ------------------------------------------------------------------------------


def _scalar(value: Any) -> bool:
    return not isinstance(value, list | dict)


def cast_numeric(value: Any) -> Any:
    """The document's "Numeric values will be cast to strings": ``123`` → ``"123"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def to_number(value: Any) -> int | float | None:
    """Laravel's ``numeric``: numbers and numeric strings (``"29.99"``); not booleans."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # JSON integers are unbounded; a number must still fit a float to be stored as one.
        return value if abs(value) <= sys.float_info.max else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and _NUMERIC.match(value):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def to_integer(value: Any) -> int | None:
    """Laravel's ``integer`` (PHP's FILTER_VALIDATE_INT): ints, whole floats and digit
    strings, within PHP's 64-bit integer range."""
    if isinstance(value, bool):
        return None
    whole_float = isinstance(value, float) and math.isfinite(value) and value.is_integer()
    digits = isinstance(value, str) and _INTEGER.match(value) is not None
    if not (isinstance(value, int) or whole_float or digits):
        return None
    integer = int(value)
    return integer if _INT64_MIN <= integer <= _INT64_MAX else None


def to_boolean(value: Any) -> bool | None:
    """Laravel's ``boolean``: true, false, 1, 0, "1", "0"."""
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value in ("0", "1"):
        return value == "1"
    return None


def parse_date(value: str) -> datetime | None:
    """An ISO-8601 / RFC 3339 date-time or date, or an RFC 2822 date (UTC when no offset)."""
    parsed = parse_iso_datetime(value)
    if parsed is not None:
        return parsed
    try:
        rfc = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if rfc.tzinfo is None:
        rfc = rfc.replace(tzinfo=UTC)
    return rfc.astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _array_items(value: Any) -> list[tuple[str, Any]] | None:
    """A PHP array's entries: a JSON list, or an object with (usually numeric) keys, which
    is how PHP encodes an array whose keys are not 0..n-1."""
    if isinstance(value, list):
        return [(str(index), item) for index, item in enumerate(value)]
    if isinstance(value, dict):
        return [(str(key), item) for key, item in value.items()]
    return None


_ARRAYS = frozenset(("strings", "object", "objects", "map"))
_UPPER = re.compile(r"(.)(?=[A-Z])")
# Laravel's default ``email`` rule is RFC-lenient: one @, something on each side, no spaces.
_UUID = re.compile(r"^[\da-fA-F]{8}-[\da-fA-F]{4}-[\da-fA-F]{4}-[\da-fA-F]{4}-[\da-fA-F]{12}$")
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
