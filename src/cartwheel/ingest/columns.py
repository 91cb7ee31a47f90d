"""The storage limits of canonical fields, read from the tables themselves.

Adapters validate lengths in their own words first; this is the core's last guard, so an
over-long value from any adapter becomes that event's validation error, never a database
error (PostgreSQL refuses a string longer than its column; SQLite would store it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String

from cartwheel.exceptions import ValidationFailed
from cartwheel.ingest.canonical import STORED_KINDS, CanonicalEvent
from cartwheel.models import Contact, ContactIdentifier, Event


def _lengths(table: Any, names: tuple[str, ...]) -> dict[str, int]:
    limits = {}
    for name in names:
        column_type = table.c[name].type
        if isinstance(column_type, String) and column_type.length:
            limits[name] = column_type.length
    return limits


_EVENT = _lengths(
    Event.__table__, ("name", "category", "action", "source", "currency", "dedup_key")
)
_PROFILE = _lengths(Contact.__table__, tuple(c.name for c in Contact.__table__.c))
_IDENTIFIER = _lengths(ContactIdentifier.__table__, ("value",))["value"]


def check_lengths(event: CanonicalEvent) -> None:
    """Raise :class:`ValidationFailed` naming every canonical field too long to store."""
    errors: dict[str, list[str]] = {}

    def check(field: str, value: Any, limit: int | None) -> None:
        if limit and isinstance(value, str) and len(value) > limit:
            errors.setdefault(field, []).append(
                f"The {field} may not be greater than {limit} characters."
            )

    for field, limit in _EVENT.items():
        check(field, getattr(event, field), limit)
    for identifier in event.identity.identifiers:
        if identifier.kind in STORED_KINDS:
            check(identifier.kind, identifier.value, _IDENTIFIER)
    if event.profile is not None:
        for field, value in event.profile.fields.items():
            check(field, value, _PROFILE.get(field))
        check("source", event.profile.source, _PROFILE.get("source"))
    if errors:
        raise ValidationFailed(errors)
