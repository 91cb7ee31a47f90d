"""Mapping a native event to the canonical event.

msgspec did the structural validation while decoding (:mod:`.decode`); the rules it cannot
express (at least one identifier, a usable email or phone, lifecycle fields that go
together, the record's shape for its category) are checked here. Every failure is a
:class:`ValidationFailed` naming the field path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from cartwheel.exceptions import ValidationFailed
from cartwheel.identity.addresses import (
    is_valid_email,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.entities import ENTITY_CATEGORIES
from cartwheel.ingest.properties import split_properties
from cartwheel.kit.structure import first_problem
from cartwheel.wire.native.decode import problem_error
from cartwheel.wire.native.schemas import ENTITY_TYPES, NativeContact, NativeEvent

# -- mapping --------------------------------------------------------------------------------


def to_canonical(store_id: int, event: NativeEvent) -> CanonicalEvent:
    """The canonical event for ``event`` (raises ValidationFailed)."""
    errors: dict[str, list[str]] = {}
    identity = _identity(event.contact, errors)
    entity = _lifecycle(event, errors)
    occurred_at = _utc(event.occurred_at, errors)
    if errors:
        raise ValidationFailed(errors)
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
    except msgspec.ValidationError:
        problem = first_problem(ENTITY_TYPES[event.category], event.entity)
        errors.update(problem_error(problem, "entity").errors)
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
