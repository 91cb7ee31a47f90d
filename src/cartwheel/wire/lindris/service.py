"""Tracking one Lindris event: decode, validate, map to a canonical event, ingest, answer."""

from __future__ import annotations

from typing import Any

import msgspec

from cartwheel.exceptions import AppError, NotFound, ValidationFailed
from cartwheel.health import EVENTS_INGESTED
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.ingest.properties import check_limits
from cartwheel.ingest.service import ingest, limits
from cartwheel.runtime import Runtime
from cartwheel.wire.lindris.mapping import generic_event, lifecycle_event
from cartwheel.wire.lindris.requests import GENERIC_FIELDS, EventType
from cartwheel.wire.lindris.validation import (
    EXISTS,
    REQUIRED_WITHOUT,
    FieldSpec,
    Validator,
    display_name,
    is_blank,
    laravel_input,
)

_IDENTITY = ("email", "referenceId", "uuid")


def decode(body: bytes) -> dict[str, Any]:
    """The body as Laravel sees it: JSON that is malformed or not an object is no input at
    all, so the answer is the 422 listing the required fields, as Lindris gives."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def validate(specs: tuple[FieldSpec, ...], data: dict[str, Any]) -> dict[str, Any]:
    """The documented fields of ``data``, cast, or :class:`ValidationFailed` with Laravel's
    messages. Errors are listed in the document's order: the required fields first, then
    the identity rule (``email`` is required unless ``referenceId`` or ``uuid`` is given)."""
    validator = Validator()
    ordered = tuple(s for s in specs if s.name not in _IDENTITY) + tuple(
        s for s in specs if s.name in _IDENTITY
    )
    cleaned = validator.fields(ordered, data)
    if all(is_blank(data.get(name)) for name in _IDENTITY):
        validator.fail("email", "email", REQUIRED_WITHOUT, values=display_name("referenceId"))
    validator.raise_if_failed()
    return cleaned


def to_canonical(
    runtime: Runtime, store_id: int, body: bytes, event_type: EventType | None, action: str
) -> CanonicalEvent:
    data = decode(body)
    budget = limits(runtime)
    check_limits(data, budget)
    if isinstance(data.get("properties"), dict):
        check_limits(data["properties"], budget)
    data = laravel_input(data)
    if event_type is None:
        return generic_event(store_id, validate(GENERIC_FIELDS, data))
    return lifecycle_event(store_id, event_type, action, validate(event_type.fields, data))


async def track(
    runtime: Runtime,
    store_id: int,
    body: bytes,
    event_type: EventType | None = None,
    action: str = "",
) -> dict[str, Any]:
    """Store one event (a lifecycle one when ``event_type`` is given) and answer as Lindris
    does: ``{"success": true, "timestamp": …, "uuid": …}``."""
    event = to_canonical(runtime, store_id, body, event_type, action)
    (outcome,) = await ingest(runtime, [event])
    result = _check(event, outcome)
    if not event.test:
        EVENTS_INGESTED.labels(wire="lindris").inc()
    answer: dict[str, Any] = {
        "success": True,
        "timestamp": int(result.received_at.timestamp()),
    }
    if result.contact_uuid is not None:
        answer["uuid"] = str(result.contact_uuid)
    return answer


def _check(event: CanonicalEvent, outcome: IngestResult | AppError) -> IngestResult:
    """A ``uuid`` that names no contact of this store — unknown, or another store's — is an
    invalid value when it is the request's only identifier (Laravel's ``exists`` rule)."""
    only_uuid = all(i.kind == "contact_uuid" for i in event.identity.identifiers)
    if isinstance(outcome, NotFound) and only_uuid:
        raise ValidationFailed({"uuid": [EXISTS.format(attribute="uuid")]})
    if isinstance(outcome, AppError):
        raise outcome
    if event.test and only_uuid and outcome.contact_uuid is None:
        raise ValidationFailed({"uuid": [EXISTS.format(attribute="uuid")]})
    return outcome
