"""Every column and size limit a request is checked against, in one place.

Lengths of values that land in a column are read from the tables themselves, so a migration
that widens a column widens what every wire format accepts. Payload limits (body size,
property count, string size) are settings (``CARTWHEEL_MAX_*``) and are enforced by the
ingest pipeline for every format (:mod:`cartwheel.wire.pipeline`). A limit a vendor document
states for its own format (e.g. Redo's 255-character ``uniqueId``) stays in that adapter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String

from cartwheel.identity.addresses import EMAIL_MAX
from cartwheel.kit.ids import MAX_ID
from cartwheel.models import Contact, ContactIdentifier, Event

__all__ = [
    "ACTION_MAX",
    "CATEGORY_MAX",
    "CONTACT_COLUMN_MAX",
    "CONTACT_ID_MAX",
    "DEDUP_KEY_MAX",
    "EMAIL_MAX",
    "EVENT_COLUMN_MAX",
    "EVENT_NAME_MAX",
    "IDENTIFIER_MAX",
    "MAX_ID",
    "PHONE_INPUT_MAX",
    "SOURCE_MAX",
    "column_max",
]


def _lengths(table: Any) -> dict[str, int]:
    """``{column: length}`` for every bounded string column of ``table``."""
    return {
        column.name: column.type.length
        for column in table.c
        if isinstance(column.type, String) and column.type.length
    }


#: Bounded string columns of ``events``: name, category, action, source, currency, dedup_key.
EVENT_COLUMN_MAX: dict[str, int] = _lengths(Event.__table__)
#: Bounded string columns of ``contacts`` (the profile fields a patch may set, and source).
CONTACT_COLUMN_MAX: dict[str, int] = _lengths(Contact.__table__)


def column_max(column: str) -> int:
    """The length of a ``contacts`` column (profile field), e.g. ``column_max("zip")``."""
    return CONTACT_COLUMN_MAX[column]


EVENT_NAME_MAX = EVENT_COLUMN_MAX["name"]
CATEGORY_MAX = EVENT_COLUMN_MAX["category"]
ACTION_MAX = EVENT_COLUMN_MAX["action"]
SOURCE_MAX = EVENT_COLUMN_MAX["source"]
DEDUP_KEY_MAX = EVENT_COLUMN_MAX["dedup_key"]
#: An email, phone or external id as stored in ``contact_identifiers.value``.
IDENTIFIER_MAX: int = _lengths(ContactIdentifier.__table__)["value"]
#: A contact id in a request (``contacts.id`` is a 32-bit integer on both engines).
CONTACT_ID_MAX = MAX_ID
#: A phone number as sent, before normalization to E.164 (which is much shorter).
PHONE_INPUT_MAX = 64

assert EMAIL_MAX <= IDENTIFIER_MAX
