"""Decoding, validating and mapping a native event to the canonical event.

msgspec does the structural validation while it decodes; the rules it cannot express
(at least one identifier, a usable email or phone, lifecycle fields that go together) are
checked here. Every failure is a :class:`ValidationFailed` naming the field path.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from cartwheel.exceptions import AppError, BadRequest, ValidationFailed
from cartwheel.identity.addresses import (
    is_valid_email,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, IngestResult, ProfilePatch
from cartwheel.ingest.entities import ENTITY_CATEGORIES
from cartwheel.ingest.properties import Limits, check_limits, split_properties
from cartwheel.wire.native.schemas import (
    ENTITY_TYPES,
    BatchItem,
    EventAccepted,
    NativeBatch,
    NativeContact,
    NativeEvent,
)

_LOCATION = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "object": "an object",
    "array": "an array",
    "uuid": "a UUID",
    "datetime": "an RFC 3339 date-time",
}


# -- decoding -------------------------------------------------------------------------------


def decode_event(body: bytes) -> NativeEvent:
    """Decode and validate one event (raises BadRequest / ValidationFailed)."""
    if not body.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.")
    try:
        event = msgspec.json.decode(body, type=NativeEvent)
    except msgspec.ValidationError as exc:
        raise validation_failed(exc) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    # JSON can only carry NUL as the escape "\u0000"; PostgreSQL cannot store it.
    if b"\\u0000" in body:
        _reject_nul(msgspec.json.decode(body), "")
    return event


def decode_batch(body: bytes, max_events: int) -> list[msgspec.Raw]:
    if not body.strip():
        raise BadRequest("The request body is empty; a JSON object is expected.")
    try:
        batch = msgspec.json.decode(body, type=NativeBatch)
    except msgspec.ValidationError as exc:
        raise validation_failed(exc) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if not batch.events:
        raise ValidationFailed({"events": ["The events field must have at least 1 item."]})
    if len(batch.events) > max_events:
        raise ValidationFailed(
            {"events": [f"The events field may not have more than {max_events} items."]}
        )
    return batch.events


def validation_failed(exc: msgspec.ValidationError, prefix: str = "") -> ValidationFailed:
    """A msgspec validation error as ``{field path: [message]}``; ``prefix`` names the
    field that was being decoded (empty for the whole body)."""
    text = str(exc)
    match = _LOCATION.match(text)
    message, path = (match["message"], match["path"]) if match else (text, "")
    field = _join(prefix, _dotted(path)) if path.strip(".") else prefix
    missing = re.fullmatch(r"Object missing required field `([^`]+)`", message)
    if missing:
        field = _join(field, missing[1])
        return ValidationFailed({field: [f"The {field} field is required."]})
    unknown = re.fullmatch(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        field = _join(field, unknown[1])
        return ValidationFailed({field: [f"The {field} field is not a known field."]})
    if not field:
        if message.startswith("Expected `object`"):
            return ValidationFailed({"body": ["The request body must be a JSON object."]})
        return ValidationFailed({"body": [f"The request body is invalid: {message}."]})
    return ValidationFailed({field: [_describe(field, message)]})


def _describe(field: str, message: str) -> str:
    expected = re.fullmatch(r"Expected `([^`]+)`, got `[^`]+`", message)
    if expected:
        kinds = [k.strip() for k in expected[1].split("|") if k.strip() != "null"]
        names = [_TYPE_NAMES.get(k, f"`{k}`") for k in kinds]
        return f"The {field} field must be {' or '.join(names)}."
    bound = re.fullmatch(r"Expected `(str|array|object)` of length (>=|<=) (\d+)", message)
    if bound:
        unit = "character" if bound[1] == "str" else "item"
        unit += "" if bound[3] == "1" else "s"
        if bound[2] == ">=":
            return f"The {field} field must have at least {bound[3]} {unit}."
        return f"The {field} field may not have more than {bound[3]} {unit}."
    number = re.fullmatch(r"Expected `(?:int|float)` (>=|<=) (-?\d+)", message)
    if number:
        word = "at least" if number[1] == ">=" else "at most"
        return f"The {field} field must be {word} {number[2]}."
    if message.startswith("Expected `str` matching regex"):
        if field == "currency":
            return "The currency field must be a 3-letter ISO 4217 code."
        return f"The {field} field format is invalid."
    if message.startswith("Invalid RFC3339"):
        return f"The {field} field must be an RFC 3339 date-time."
    if message == "Invalid UUID":
        return f"The {field} field must be a valid UUID."
    if message == "Number out of range":
        return f"The {field} field is out of range."
    return f"The {field} field is invalid: {message}."


def _dotted(path: str) -> str:
    """``.contact.email`` → ``contact.email``; ``.events[2].name`` → ``events.2.name``."""
    return re.sub(r"\[(\d+)\]", r".\1", path).strip(".")


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


# -- mapping --------------------------------------------------------------------------------


def to_canonical(store_id: int, event: NativeEvent, limits: Limits) -> CanonicalEvent:
    """The canonical event for ``event`` (raises ValidationFailed / LimitExceeded)."""
    errors: dict[str, list[str]] = {}
    identity = _identity(event.contact, errors)
    entity = _lifecycle(event, errors)
    occurred_at = _utc(event.occurred_at, errors)
    if errors:
        raise ValidationFailed(errors)
    for data in (event.properties, event.contact.custom_fields, entity):
        if data:
            check_limits(data, limits)
    split = split_properties(event.properties or {})
    return CanonicalEvent(
        store_id=store_id,
        name=event.name,
        identity=identity,
        category=event.category,
        action=event.action,
        occurred_at=occurred_at,
        source=event.source,
        profile=_profile(event),
        properties=split.properties,
        property_types=split.property_types,
        extra=split.extra,
        entity=entity,
        value=event.value,
        currency=event.currency.upper() if event.currency else None,
        dedup_key=event.dedup_key,
        silent=event.silent,
        test=event.test,
    )


def _identity(contact: NativeContact, errors: dict[str, list[str]]) -> IdentityHints:
    """Hints in the native priority order: id, uuid, externalId, email, phone."""
    hints = IdentityHints()
    hints.add("contact_id", str(contact.id) if contact.id is not None else None)
    hints.add("contact_uuid", str(contact.uuid) if contact.uuid is not None else None)
    if contact.external_id is not None:
        external = normalize_external_id(contact.external_id)
        if external is None:
            errors["contact.externalId"] = ["The contact.externalId field may not be blank."]
        hints.add("external", external)
    if contact.email is not None:
        email = normalize_email(contact.email)
        if email is None or not is_valid_email(email):
            errors["contact.email"] = ["The contact.email field must be a valid email address."]
        else:
            hints.add("email", email)
    if contact.phone is not None:
        phone = normalize_phone(contact.phone)
        if phone is None:
            errors["contact.phone"] = ["The contact.phone field must be a valid phone number."]
        hints.add("phone", phone)
    if not hints.identifiers and not errors:
        errors["contact"] = [
            "The contact must have at least one identifier: id, uuid, externalId, email or phone."
        ]
    return hints


def _profile(event: NativeEvent) -> ProfilePatch | None:
    contact = event.contact
    fields = {
        column: value
        for column, value in (
            ("first_name", contact.first_name),
            ("last_name", contact.last_name),
            ("name", contact.name),
        )
        if value is not None
    }
    if not fields and not contact.custom_fields and event.source is None:
        return None
    return ProfilePatch(
        fields=fields, custom_fields=dict(contact.custom_fields or {}), source=event.source
    )


def _lifecycle(event: NativeEvent, errors: dict[str, list[str]]) -> dict[str, Any] | None:
    if event.category is None:
        if event.action is not None:
            errors["category"] = ["The category field is required when action is present."]
        if event.entity is not None:
            errors["category"] = ["The category field is required when entity is present."]
        return None
    if event.category not in ENTITY_CATEGORIES:
        errors["category"] = [
            "The category field must be one of: " + ", ".join(ENTITY_CATEGORIES) + "."
        ]
        return None
    if event.action is None:
        errors["action"] = ["The action field is required when category is present."]
    if event.entity is None:
        return None
    try:
        entity: dict[str, Any] = msgspec.convert(event.entity, ENTITY_TYPES[event.category])
    except msgspec.ValidationError as exc:
        errors.update(validation_failed(exc, "entity").errors)
        return None
    return entity


def _utc(value: datetime | None, errors: dict[str, list[str]]) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        errors["occurredAt"] = ["The occurredAt field is out of range."]
        return None


# -- answering ------------------------------------------------------------------------------


def accepted(result: IngestResult) -> EventAccepted:
    return EventAccepted(
        id=str(result.event_id) if result.event_id else None,
        contact_id=result.contact_id,
        contact_uuid=str(result.contact_uuid) if result.contact_uuid else None,
        received_at=result.received_at,
        duplicate=result.duplicate,
    )


def batch_item(index: int, outcome: IngestResult | AppError) -> BatchItem:
    if isinstance(outcome, AppError):
        return rejected_item(index, outcome)
    return BatchItem(
        index=index,
        accepted=True,
        id=str(outcome.event_id) if outcome.event_id else None,
        contact_id=outcome.contact_id,
        contact_uuid=str(outcome.contact_uuid) if outcome.contact_uuid else None,
        received_at=outcome.received_at,
        duplicate=outcome.duplicate,
    )


def rejected_item(index: int, error: AppError) -> BatchItem:
    errors = error.errors if isinstance(error, ValidationFailed) else None
    message = next(iter(errors.values()))[0] if errors else error.message
    return BatchItem(
        index=index, accepted=False, status=error.status_code, message=message, errors=errors
    )
