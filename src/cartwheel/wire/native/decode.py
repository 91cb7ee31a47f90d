"""Decoding and structurally validating native events.

msgspec decodes straight into the validated Structs of :mod:`.schemas`. When it refuses a
body, the body is decoded again to builtins and :func:`cartwheel.kit.structure.first_problem`
says which field is wrong and how; the message is worded here, never taken from msgspec.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from cartwheel.exceptions import AppError, BadRequest, ValidationFailed
from cartwheel.ingest.properties import Part
from cartwheel.kit.structure import Problem, decode_loose, first_problem
from cartwheel.wire.native.schemas import NativeBatch, NativeEvent

_decode_event = msgspec.json.Decoder(NativeEvent).decode
_decode_batch = msgspec.json.Decoder(NativeBatch).decode

_TYPE_NAMES = {
    "bool": "a boolean",
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "uuid": "a UUID",
    "datetime": "an RFC 3339 date-time",
    "object": "an object",
    "array": "an array",
}


def decode_event(body: bytes) -> NativeEvent:
    """Decode and validate one event (raises BadRequest / ValidationFailed)."""
    if not body.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.")
    try:
        event = _decode_event(body)
    except msgspec.ValidationError:
        raise explain(NativeEvent, body) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    # JSON can only carry NUL as the escape "\u0000"; PostgreSQL cannot store it.
    if b"\\u0000" in body:
        _reject_nul(msgspec.json.decode(body), "")
    return event


def decode_batch(body: bytes, max_events: int) -> list[msgspec.Raw]:
    """The events of a batch, each still raw so that one invalid event is rejected alone."""
    if not body.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.")
    try:
        batch = _decode_batch(body)
    except msgspec.ValidationError:
        raise explain(NativeBatch, body) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if not batch.events:
        raise ValidationFailed({"events": ["The events field must have at least 1 item."]})
    if len(batch.events) > max_events:
        raise ValidationFailed(
            {"events": [f"The events field may not have more than {max_events} items."]}
        )
    return batch.events


def limited(event: NativeEvent) -> Iterable[Part]:
    """The event's properties, the contact's custom fields and the lifecycle record: each
    counted, and their strings checked. (Only those present: this is the hot path.)"""
    custom_fields, entity = event.contact.custom_fields, event.entity
    if custom_fields is None and entity is None:
        return (Part(event.properties, "", True, level=1),) if event.properties else ()
    return (
        Part(event.properties, "", True, level=1),
        Part(custom_fields, "", True, level=2),
        Part(entity, "", True, level=1),
    )


def explain(kind: Any, body: bytes, prefix: str = "") -> AppError:
    """Why msgspec refused ``body`` as ``kind``, as ``{field path: [message]}`` (or the
    body is not JSON at all: msgspec may stop at a bad field before reaching the end)."""
    try:
        value = decode_loose(body)
    except msgspec.DecodeError as exc:
        return BadRequest(f"The request body is not valid JSON: {exc}.")
    return problem_error(first_problem(kind, value), prefix)


def problem_error(problem: Problem | None, prefix: str = "") -> ValidationFailed:
    """A structural problem in this format's words; ``prefix`` names the field that was
    being checked (empty for the whole body)."""
    if problem is None:  # msgspec refused what the structure allows: say so plainly
        field = prefix or "body"
        return ValidationFailed({field: [f"The {field} field is invalid."]})
    field = ".".join(str(part) for part in ((prefix,) if prefix else ()) + problem.path)
    if not field:
        return ValidationFailed({"body": ["The request body must be a JSON object."]})
    return ValidationFailed({field: [_describe(field, problem)]})


def _describe(field: str, problem: Problem) -> str:
    kind = problem.kind
    if kind == "missing":
        return f"The {field} field is required."
    if kind == "unknown":
        return f"The {field} field is not a known field."
    if kind == "type":
        names = [_TYPE_NAMES[name] for name in problem.expected if name != "null"]
        return f"The {field} field must be {' or '.join(names)}."
    if kind in ("min_length", "max_length"):
        unit = "character" if problem.unit == "str" else "item"
        unit += "" if problem.bound == 1 else "s"
        if kind == "min_length":
            return f"The {field} field must have at least {problem.bound} {unit}."
        return f"The {field} field may not have more than {problem.bound} {unit}."
    if kind == "ge":
        return f"The {field} field must be at least {problem.bound}."
    if kind == "le":
        return f"The {field} field must be at most {problem.bound}."
    if kind == "pattern":
        if field == "currency":
            return "The currency field must be a 3-letter ISO 4217 code."
        return f"The {field} field format is invalid."
    if kind == "invalid":
        if problem.expected == ("datetime",):
            return f"The {field} field must be an RFC 3339 date-time."
        return f"The {field} field must be a valid UUID."
    if kind == "out_of_range":
        return f"The {field} field is out of range."
    return f"The {field} field is invalid."


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


def _reject_nul(value: Any, path: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            field = path or "body"
            raise ValidationFailed({field: [f"The {field} field may not contain NUL characters."]})
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise ValidationFailed({path or "body": ["Keys may not contain NUL characters."]})
            _reject_nul(item, _join(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_nul(item, _join(path, str(index)))
