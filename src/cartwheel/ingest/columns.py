"""The storage limits of canonical fields (:mod:`cartwheel.limits`, read from the tables).

Adapters validate lengths in their own words first; this is the core's last guard, so an
over-long value from any adapter becomes that event's validation error, never a database
error (PostgreSQL refuses a string longer than its column; SQLite would store it)."""

from __future__ import annotations

from typing import Any

from cartwheel.exceptions import ValidationFailed
from cartwheel.ingest.canonical import STORED_KINDS, CanonicalEvent
from cartwheel.limits import CONTACT_COLUMN_MAX, EVENT_COLUMN_MAX, IDENTIFIER_MAX

_EVENT = {
    name: EVENT_COLUMN_MAX[name]
    for name in ("name", "category", "action", "source", "currency", "dedup_key")
}
_PROFILE = CONTACT_COLUMN_MAX
_IDENTIFIER = IDENTIFIER_MAX


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
