"""The one rule for the identifiers people are found by: how an email, a phone and an
external id are normalized, and when an email is valid. Every wire format and the store data
API call these; each format words its own error message."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

#: RFC 5321: 64 octets of local part, 255 of domain, 320 in all (with the "@").
EMAIL_MAX = 320
_LOCAL_MAX = 64
_DOMAIN_MAX = 255
_LABEL_MAX = 63
#: The rule above as one regular expression: it runs for every event that carries an email.
_CHAR = r"[^@\s\x00-\x1f\x7f]"
_LABEL = rf"[^@.\s\x00-\x1f\x7f]{{1,{_LABEL_MAX}}}"
_EMAIL = re.compile(
    rf"{_CHAR}{{1,{_LOCAL_MAX}}}@(?=[^@]{{1,{_DOMAIN_MAX}}}\Z)(?:{_LABEL}\.)+{_LABEL}"
)


def normalize_email(value: str | None) -> str | None:
    """Trimmed, in Unicode NFC and lower-cased, so ``josé@…`` typed with a combining accent
    and with a precomposed one is one person; None when blank. Says nothing of validity: see
    :func:`is_valid_email`."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value.strip()).lower()
    return value or None


def is_valid_email(value: str) -> bool:
    """An address a mail server could deliver to: one ``@``, a local part of 1 to 64
    characters without spaces or control characters, and a domain of at most 255 characters
    made of at least two non-empty dot-separated labels of at most 63 (``ann@shop`` is
    refused: no store's customer has a mailbox on a bare host name)."""
    return len(value) <= EMAIL_MAX and _EMAIL.fullmatch(value) is not None


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


def _check_email(value: str) -> str:
    value = value.strip()
    if not is_valid_email(value):
        raise PydanticCustomError("invalid", "must be a valid email address")
    return value


def _check_phone(value: str) -> str:
    value = value.strip()
    if value and normalize_phone(value) is None:
        raise PydanticCustomError("invalid", "must be a valid phone number")
    return value


#: A phone number :func:`normalize_phone` accepts, or an empty string (which clears one).
Phone = Annotated[str, AfterValidator(_check_phone)]

#: An email address (format-checked, surrounding spaces removed; not yet lower-cased).
Email = Annotated[
    str,
    AfterValidator(_check_email),
    Field(json_schema_extra={"format": "email"}),
]
