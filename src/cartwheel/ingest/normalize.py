"""Normalizing identifiers: emails compare case-insensitively, phones as E.164."""

from __future__ import annotations

import phonenumbers


def normalize_email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    return value or None


def normalize_phone(value: str | None, default_region: str | None = "US") -> str | None:
    """E.164 (``+15551234567``), or None when the value is not a possible phone number."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        parsed = phonenumbers.parse(value, None if value.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_external_id(value: object) -> str | None:
    """External ids are strings; numbers are cast (``123`` → ``"123"``)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
