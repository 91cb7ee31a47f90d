"""Validating a Redo custom event and mapping it to a canonical event (the envelope and the
payload limits were checked by :mod:`.decode` and the pipeline).

Every rule is the Redo document's (``custom-event-request.schema`` and the two endpoint
descriptions). Messages name the offending field by its JSON path, relative to the event.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cartwheel.identity.addresses import is_valid_email, normalize_email, normalize_phone
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.properties import parse_iso_datetime, split_properties
from cartwheel.kit.validation import FieldErrors
from cartwheel.limits import CONTACT_ID_MAX, EMAIL_MAX, EVENT_NAME_MAX, column_max

SOURCE = "redo"
#: The document's own limit on ``uniqueId``.
MAX_UNIQUE_ID = 255

_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")

_CUSTOMER_FIELDS = frozenset(
    {"id", "email", "phoneNumber", "firstName", "lastName", "location", "customFields"}
)
# location field → (contact column, longest value the column holds)
_LOCATION_TEXT: dict[str, tuple[str, int]] = {
    field: (column, column_max(column))
    for field, column in (
        ("street1", "address1"),
        ("street2", "address2"),
        ("city", "city"),
        ("state", "state"),
        ("stateCode", "state_code"),
        ("postalCode", "zip"),
        ("country", "country"),
    )
}
_LOCATION_FIELDS = frozenset(
    {*_LOCATION_TEXT, "countryCode", "ianaTimeZoneName", "latitude", "longitude"}
)


def to_canonical(body: dict[str, Any], store_id: int) -> CanonicalEvent:
    """One custom event (a JSON object, within the payload limits); raises
    :class:`InvalidRequest` (400) naming every invalid field."""
    errors = FieldErrors()
    name = _event_name(body.get("eventName"), errors)
    identity, profile = _customer(body.get("customer"), errors)
    data, extra = _data(body.get("data"), errors)
    occurred_at = None
    timestamp = body.get("eventTimestamp")
    if timestamp is not None:
        occurred_at = parse_iso_datetime(timestamp) if isinstance(timestamp, str) else None
        if occurred_at is None:
            errors.add(
                "eventTimestamp",
                "eventTimestamp must be an ISO 8601 (RFC 3339) date-time string, "
                "e.g. 2026-04-02T12:00:00Z.",
            )
    value = _number(body, "value", "value", errors)
    currency = _text(body, "valueCurrency", "valueCurrency", errors)
    if currency is not None:
        if _CURRENCY.match(currency):
            currency = currency.upper()
        else:
            errors.add(
                "valueCurrency",
                'valueCurrency must be a 3-letter ISO 4217 currency code, e.g. "USD".',
            )
    unique_id = body.get("uniqueId")
    if unique_id is not None and (
        not isinstance(unique_id, str) or not 1 <= len(unique_id) <= MAX_UNIQUE_ID
    ):
        errors.add("uniqueId", f"uniqueId must be a string of 1 to {MAX_UNIQUE_ID} characters.")
    errors.raise_any()
    split = split_properties(data, extra=extra)
    return CanonicalEvent(
        store_id=store_id,
        name=name,
        identity=identity,
        occurred_at=occurred_at,
        source=SOURCE,
        profile=profile,
        properties=split.properties,
        property_types=split.property_types,
        extra=split.extra,
        value=value,
        currency=currency,
        dedup_key=unique_id,
    )


# -- fields ------------------------------------------------------------------------------------


def _event_name(value: Any, errors: FieldErrors) -> str:
    if value is None or value == "":
        errors.add("eventName", "eventName is required.")
    elif not isinstance(value, str):
        errors.add("eventName", "eventName must be a string.")
    elif not value.strip():
        errors.add("eventName", "eventName must not be blank.")
    elif len(value) > EVENT_NAME_MAX:
        errors.add("eventName", f"eventName must be at most {EVENT_NAME_MAX} characters.")
    else:
        return value.strip()
    return ""


def _customer(value: Any, errors: FieldErrors) -> tuple[IdentityHints, ProfilePatch]:
    hints = IdentityHints()
    patch = ProfilePatch(source=SOURCE)
    if value is None:
        errors.add("customer", "customer is required.")
        return hints, patch
    if not isinstance(value, dict):
        errors.add("customer", "customer must be an object.")
        return hints, patch
    for key in sorted(value.keys() - _CUSTOMER_FIELDS):
        errors.add(f"customer.{key}", f"customer.{key} is not a customer field.")

    contact_ref = _text(value, "id", "customer.id", errors)
    email = _text(value, "email", "customer.email", errors, EMAIL_MAX)
    if email is not None and not is_valid_email(email):
        errors.add("customer.email", "customer.email must be a valid email address.")
        email = None
    raw_phone = _text(value, "phoneNumber", "customer.phoneNumber", errors)
    phone = normalize_phone(raw_phone) if raw_phone is not None else None
    if raw_phone is not None and phone is None:
        errors.add(
            "customer.phoneNumber",
            'customer.phoneNumber must be a phone number in E.164 format, e.g. "+12065550100".',
        )
    given = contact_ref is not None or email is not None or raw_phone is not None
    if not given and "customer.email" not in errors.fields:
        errors.add("customer", "customer must include at least one of id, email or phoneNumber.")

    # The document's priority: customer.id (a contact's uuid or id), then email, then phone.
    if contact_ref is not None:
        hints.add("contact_uuid", contact_ref)
        if contact_ref.isascii() and contact_ref.isdigit() and int(contact_ref) <= CONTACT_ID_MAX:
            hints.add("contact_id", contact_ref)
    hints.add("email", normalize_email(email))
    hints.add("phone", phone)

    for field, column in (("firstName", "first_name"), ("lastName", "last_name")):
        text = _text(value, field, f"customer.{field}", errors, column_max(column))
        if text is not None:
            patch.fields[column] = text
    _location(value.get("location"), patch, errors)
    patch.custom_fields = _custom_fields(value.get("customFields"), errors)
    return hints, patch


def _location(value: Any, patch: ProfilePatch, errors: FieldErrors) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        errors.add("customer.location", "customer.location must be an object.")
        return
    for key in sorted(value.keys() - _LOCATION_FIELDS):
        errors.add(f"customer.location.{key}", f"customer.location.{key} is not a location field.")
    for field, (column, longest) in _LOCATION_TEXT.items():
        text = _text(value, field, f"customer.location.{field}", errors, longest)
        if text is not None:
            patch.fields[column] = text
    code = _text(value, "countryCode", "customer.location.countryCode", errors)
    if code is not None:
        if _COUNTRY_CODE.match(code):
            patch.fields["country_code"] = code.upper()
        else:
            errors.add(
                "customer.location.countryCode",
                'customer.location.countryCode must be an ISO 3166-1 alpha-2 code, e.g. "US".',
            )
    zone = _text(
        value,
        "ianaTimeZoneName",
        "customer.location.ianaTimeZoneName",
        errors,
        column_max("timezone"),
    )
    if zone is not None:
        if _is_time_zone(zone):
            patch.fields["timezone"] = zone
        else:
            errors.add(
                "customer.location.ianaTimeZoneName",
                "customer.location.ianaTimeZoneName must be an IANA time zone identifier, "
                'e.g. "America/New_York".',
            )
    for field, bound in (("latitude", 90), ("longitude", 180)):
        path = f"customer.location.{field}"
        number = _number(value, field, path, errors)
        if number is None:
            continue
        if -bound <= number <= bound:
            patch.fields[field] = number
        else:
            errors.add(path, f"{path} must be between -{bound} and {bound}.")


def _custom_fields(value: Any, errors: FieldErrors) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add("customer.customFields", "customer.customFields must be an object.")
        return {}
    valid: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, str | bool | int | float):
            valid[key] = item
        else:
            path = f"customer.customFields.{key}"
            errors.add(path, f"{path} must be a string, a number or a boolean.")
    # Same typing as event data: ISO-8601 strings are stored as normalized UTC dates.
    return split_properties(valid).properties


def _data(value: Any, errors: FieldErrors) -> tuple[dict[str, Any], dict[str, Any]]:
    """Segmentable data (0, null and "" dropped, as the document says) and ``$extra``."""
    if value is None:
        return {}, {}
    if not isinstance(value, dict):
        errors.add("data", "data must be an object.")
        return {}, {}
    extra = value.get("$extra")
    if extra is not None and not isinstance(extra, dict):
        errors.add("data.$extra", "data.$extra must be an object.")
        extra = None
    kept = {k: v for k, v in value.items() if k != "$extra" and not _unset(v)}
    return kept, extra or {}


def _unset(value: Any) -> bool:
    if value is None or value == "":
        return True
    # False == 0 in Python, but a boolean false is a value, not "unset".
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


# -- scalar helpers ----------------------------------------------------------------------------


def _text(
    obj: dict[str, Any], key: str, path: str, errors: FieldErrors, longest: int | None = None
) -> str | None:
    """An optional string field, stripped; null and "" count as absent (patch semantics)."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(path, f"{path} must be a string.")
        return None
    value = value.strip()
    if longest is not None and len(value) > longest:
        errors.add(path, f"{path} must be at most {longest} characters.")
        return None
    return value or None


def _number(obj: dict[str, Any], key: str, path: str, errors: FieldErrors) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            pass  # an integer literal too large for a double
    errors.add(path, f"{path} must be a number.")
    return None


def _is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
