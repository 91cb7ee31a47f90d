"""Why a JSON value does not fit a msgspec type, as data: the field path and what is wrong.

Adapters decode with msgspec because it is fast, but msgspec explains a failure only in
English text, which an upgrade may reword. So when a typed decode fails, the adapter decodes
the body to builtins and asks :func:`first_problem`, which walks the value against the type's
structure (:mod:`msgspec.inspect`, the same declarations that drive decoding) and returns the
first :class:`Problem` in the order msgspec meets it. The adapter words the problem itself.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Literal

import msgspec
import msgspec.inspect as mi

Kind = Literal[
    "missing",  # a required field is absent (the path ends with its name)
    "unknown",  # a field the type does not declare (the path ends with its name)
    "type",  # the value has the wrong JSON type (``expected`` names the accepted ones)
    "min_length",  # a string, array or object shorter than ``bound``
    "max_length",  # ... longer than ``bound``
    "ge",  # a number below ``bound``
    "le",  # a number above ``bound``
    "pattern",  # a string that does not match the declared pattern
    "invalid",  # a string that is not a valid ``expected[0]`` (``uuid`` or ``datetime``)
    "out_of_range",  # a number too large to hold
]

#: JSON type names in the order they are listed in ``Problem.expected``.
TYPE_NAMES = ("bool", "int", "float", "str", "uuid", "datetime", "object", "array", "null")

#: Decodes floats as :class:`Decimal`, so a literal too large for a double is still a value.
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


_INT_MIN, _UINT_MAX = -(2**63), 2**64 - 1


@dataclass(frozen=True, slots=True)
class Problem:
    kind: Kind
    path: tuple[str | int, ...]
    #: For ``type`` and ``invalid``: the accepted types, from :data:`TYPE_NAMES`.
    expected: tuple[str, ...] = ()
    #: For lengths and numeric bounds: the bound.
    bound: int | float | None = None
    #: For lengths: ``str``, ``array`` or ``object``.
    unit: str = ""


def decode_loose(body: bytes) -> Any:
    """``body`` as builtins (floats as :class:`Decimal`); raises ``msgspec.DecodeError``."""
    return _DECODER.decode(body)


def first_problem(kind: Any, value: Any) -> Problem | None:
    """The first reason ``value`` (builtins) does not fit the msgspec type ``kind``."""
    return _check(_info(kind), value, ())


@cache
def _info(kind: Any) -> mi.Type:
    return mi.type_info(kind)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float | Decimal):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "unknown"


def _names(info: mi.Type) -> tuple[str, ...]:
    members = info.types if isinstance(info, mi.UnionType) else (info,)
    names = {_name(member) for member in members}
    return tuple(name for name in TYPE_NAMES if name in names)


def _name(info: mi.Type) -> str:
    if isinstance(info, mi.NoneType):
        return "null"
    if isinstance(info, mi.BoolType):
        return "bool"
    if isinstance(info, mi.IntType):
        return "int"
    if isinstance(info, mi.FloatType):
        return "float"
    if isinstance(info, mi.StrType):
        return "str"
    if isinstance(info, mi.UUIDType):
        return "uuid"
    if isinstance(info, mi.DateTimeType):
        return "datetime"
    if isinstance(info, mi.ListType):
        return "array"
    return "object"


def _accepts(info: mi.Type, json_type: str) -> bool:
    """Would ``info`` try to decode a value of ``json_type`` (before its constraints)?"""
    if isinstance(info, mi.AnyType | mi.RawType):
        return True
    name = _name(info)
    if json_type == "int":
        return name in ("int", "float")
    if json_type == "str":
        return name in ("str", "uuid", "datetime")
    return name == json_type


def _check(info: mi.Type, value: Any, path: tuple[str | int, ...]) -> Problem | None:
    if isinstance(info, mi.UnionType):
        json_type = _json_type(value)
        # An int literal goes to an int member before a float one, as msgspec decodes it.
        members = sorted(info.types, key=lambda m: not isinstance(m, mi.IntType))
        for member in members:
            if _accepts(member, json_type):
                return _check(member, value, path)
        return Problem("type", path, _names(info))
    if isinstance(info, mi.AnyType):
        return _out_of_range(value, path)
    if isinstance(info, mi.RawType):
        return None
    if not _accepts(info, _json_type(value)):
        return Problem("type", path, _names(info))
    if isinstance(info, mi.IntType | mi.FloatType):
        return _number(info, value, path)
    if isinstance(info, mi.StrType):
        return _string(info, value, path)
    if isinstance(info, mi.UUIDType | mi.DateTimeType):
        target = uuid.UUID if isinstance(info, mi.UUIDType) else datetime
        try:
            msgspec.convert(value, target)
        except msgspec.ValidationError:
            return Problem("invalid", path, (_name(info),))
        return None
    if isinstance(info, mi.ListType):
        problem = _length(info, value, path, "array")
        for index, item in enumerate(value):
            problem = problem or _check(info.item_type, item, (*path, index))
        return problem
    if isinstance(info, mi.DictType):
        problem = _length(info, value, path, "object")
        for key, item in value.items():
            problem = problem or _check(info.value_type, item, (*path, key))
        return problem
    if isinstance(info, mi.StructType | mi.TypedDictType):
        return _object(info, value, path)
    return None


def _object(
    info: mi.StructType | mi.TypedDictType, value: dict[str, Any], path: tuple[str | int, ...]
) -> Problem | None:
    fields = {field.encode_name: field for field in info.fields}
    forbid = isinstance(info, mi.StructType) and info.forbid_unknown_fields
    for key, item in value.items():
        field = fields.get(key)
        if field is None:
            if forbid:
                return Problem("unknown", (*path, key))
            continue
        problem = _check(field.type, item, (*path, key))
        if problem is not None:
            return problem
    for field in info.fields:
        if field.required and field.encode_name not in value:
            return Problem("missing", (*path, field.encode_name))
    return None


def _length(
    info: mi.StrType | mi.ListType | mi.DictType,
    value: Any,
    path: tuple[str | int, ...],
    unit: str,
) -> Problem | None:
    if info.min_length is not None and len(value) < info.min_length:
        return Problem("min_length", path, bound=info.min_length, unit=unit)
    if info.max_length is not None and len(value) > info.max_length:
        return Problem("max_length", path, bound=info.max_length, unit=unit)
    return None


def _string(info: mi.StrType, value: str, path: tuple[str | int, ...]) -> Problem | None:
    problem = _length(info, value, path, "str")
    if problem is None and info.pattern is not None and not re.search(info.pattern, value):
        return Problem("pattern", path)
    return problem


def _number(
    info: mi.IntType | mi.FloatType, value: Any, path: tuple[str | int, ...]
) -> Problem | None:
    problem = _out_of_range(value, path)
    if problem is not None:
        return problem
    if isinstance(info, mi.IntType) and not _INT_MIN <= value <= _UINT_MAX:
        return Problem("out_of_range", path)
    if info.ge is not None and value < info.ge:
        return Problem("ge", path, bound=info.ge)
    if info.gt is not None and value <= info.gt:
        return Problem("ge", path, bound=info.gt)
    if info.le is not None and value > info.le:
        return Problem("le", path, bound=info.le)
    if info.lt is not None and value >= info.lt:
        return Problem("le", path, bound=info.lt)
    return None


def _out_of_range(value: Any, path: tuple[str | int, ...]) -> Problem | None:
    """A float literal no double holds (msgspec refuses it wherever it appears)."""
    if isinstance(value, Decimal):
        if not math.isfinite(float(value)):
            return Problem("out_of_range", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _out_of_range(item, (*path, key))
            if problem is not None:
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problem = _out_of_range(item, (*path, index))
            if problem is not None:
                return problem
    return None
