"""The core's checks of canonical fields, run for every event of every wire format.

Lengths come from :mod:`cartwheel.limits` (read from the tables). Adapters validate lengths
in their own words first; this is the core's last guard, so an over-long value from any
adapter becomes that event's validation error, never a database error (PostgreSQL refuses a
string longer than its column; SQLite would store it).

Single-line text: the event's name, category, action, source, currency and dedup key, every
identifier, the profile patch and every string of the lifecycle record (ids, SKUs, codes,
names, addresses) except its free text refuse control characters
(:data:`cartwheel.text.CONTROL_CHARACTERS`). Property values and ``extra`` are free text.

Currencies: the event's and its record's ``currency`` are three-letter codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cartwheel.exceptions import ValidationFailed
from cartwheel.ingest.canonical import STORED_KINDS, CanonicalEvent
from cartwheel.limits import CONTACT_COLUMN_MAX, EVENT_COLUMN_MAX, IDENTIFIER_MAX
from cartwheel.text import CONTROL_CHARACTERS

_EVENT_FIELDS = ("name", "category", "action", "source", "currency", "dedup_key")
_EVENT = {name: EVENT_COLUMN_MAX[name] for name in _EVENT_FIELDS}
_PROFILE = CONTACT_COLUMN_MAX
_IDENTIFIER = IDENTIFIER_MAX
#: Members of a lifecycle record that are prose, not identifiers or names.
_FREE_TEXT = frozenset(("description", "note"))
_CURRENCY = re.compile(r"[A-Za-z]{3}\Z")


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
    for identifier in (*event.identity.identifiers, *event.identity.joins):
        if identifier.kind in STORED_KINDS:
            check(identifier.kind, identifier.value, _IDENTIFIER)
    if event.profile is not None:
        for field, value in event.profile.fields.items():
            check(field, value, _PROFILE.get(field))
        check("source", event.profile.source, _PROFILE.get("source"))
    if errors:
        raise ValidationFailed(errors)


def check_canonical(event: CanonicalEvent) -> None:
    """Every core check of ``event``: lengths, single-line text, currency codes."""
    check_lengths(event)
    check_single_line(event)
    check_currencies(event)


def check_currencies(event: CanonicalEvent) -> None:
    """The event's and its record's currency are ISO 4217 codes (three letters): adapters
    check theirs in their own words; a record's ``currency`` may come through unchecked."""
    errors: dict[str, list[str]] = {}
    for field, value in (
        ("currency", event.currency),
        ("entity.currency", event.entity.get("currency") if event.entity else None),
    ):
        if value is not None and (not isinstance(value, str) or not _CURRENCY.match(value)):
            errors[field] = [f"The {field} must be a 3-letter ISO 4217 currency code."]
    if errors:
        raise ValidationFailed(errors)


def check_single_line(event: CanonicalEvent) -> None:
    """Raise :class:`ValidationFailed` naming every identifier, code or name field of
    ``event`` that holds a control character.

    One regex search over the joined strings on the way in; the fields are named only when
    it finds something."""
    if CONTROL_CHARACTERS.search(_joined(event)) is None:
        return
    errors: dict[str, list[str]] = {}
    for field, value in _single_line(event):
        if CONTROL_CHARACTERS.search(value) is not None and field not in errors:
            errors[field] = [f"The {field} must not contain control characters."]
    raise ValidationFailed(errors)


def _joined(event: CanonicalEvent) -> str:
    """The strings :func:`_single_line` yields, joined: the fast path, without paths."""
    texts = [
        value
        for value in (event.name, event.category, event.action, event.source, event.currency)
        if value is not None
    ]
    if event.dedup_key is not None:
        texts.append(event.dedup_key)
    texts.extend(i.value for i in (*event.identity.identifiers, *event.identity.joins))
    if event.profile is not None:
        texts.extend(v for v in event.profile.fields.values() if isinstance(v, str))
        if event.profile.source is not None:
            texts.append(event.profile.source)
    if event.entity:
        _collect(event.entity, texts)
    return "".join(texts)


def _collect(record: dict[str, Any], texts: list[str]) -> None:
    for key, value in record.items():
        if key in _FREE_TEXT:
            continue
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            _collect(value, texts)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    texts.append(item)
                elif isinstance(item, dict):
                    _collect(item, texts)


def _single_line(event: CanonicalEvent) -> Iterator[tuple[str, str]]:
    """Every single-line string of ``event`` with its canonical field path."""
    for field in _EVENT_FIELDS:
        value = getattr(event, field)
        if value is not None:
            yield field, value
    for identifier in (*event.identity.identifiers, *event.identity.joins):
        yield identifier.kind, identifier.value
    if event.profile is not None:
        for field, value in event.profile.fields.items():
            if isinstance(value, str):
                yield field, value
        if event.profile.source is not None:
            yield "source", event.profile.source
    if event.entity:
        yield from _strings("entity", event.entity)


def _strings(path: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _FREE_TEXT:
                yield from _strings(f"{path}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(f"{path}.{index}", item)
