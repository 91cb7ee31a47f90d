"""Validating a Redo custom event and mapping it to a canonical event.

Every rule is the Redo document's (``custom-event-request.schema`` and the two endpoint
descriptions). Messages name the offending field by its JSON path, relative to the event.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cartwheel.exceptions import AppError, InvalidRequest, NotFound
from cartwheel.identity.addresses import is_valid_email, normalize_email, normalize_phone
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.properties import (
    LimitExceeded,
    Limits,
    check_limits,
    parse_iso_datetime,
    split_properties,
)
from cartwheel.kit.validation import FieldErrors

SOURCE = "redo"
MAX_BULK_EVENTS = 100
MAX_UNIQUE_ID = 255
# Column sizes of the event log and the contact table: longer values are a 400, not a 500.
MAX_EVENT_NAME = 300
MAX_EMAIL = 320
MAX_NAME = 200

_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
_MAX_CONTACT_ID = 2**31 - 1

_CUSTOMER_FIELDS = frozenset(
    {"id", "email", "phoneNumber", "firstName", "lastName", "location", "customFields"}
)
# location field → (contact column, longest value the column holds)
_LOCATION_TEXT: dict[str, tuple[str, int]] = {
    "street1": ("address1", 500),
    "street2": ("address2", 500),
    "city": ("city", 200),
    "state": ("state", 200),
    "stateCode": ("state_code", 20),
    "postalCode": ("zip", 40),
    "country": ("country", 200),
}
_LOCATION_FIELDS = frozenset(
    {*_LOCATION_TEXT, "countryCode", "ianaTimeZoneName", "latitude", "longitude"}
)


# -- the request envelopes -------------------------------------------------------------------


def bulk_items(body: Any) -> list[Any]:
    """The ``events`` of a bulk request (1 to 100 of them), or :class:`InvalidRequest`."""
    if not isinstance(body, dict):
        raise InvalidRequest({"body": ["The request body must be a JSON object."]})
    errors = FieldErrors()
    for key in sorted(body.keys() - {"events"}):
        errors.add(key, f"{key} is not allowed: a bulk request has only `events`.")
    events = body.get("events")
    if events is None:
        errors.add("events", "events is required.")
    elif not isinstance(events, list):
        errors.add("events", "events must be an array of custom events.")
    elif not events:
        errors.add("events", "events must contain at least 1 event.")
    elif len(events) > MAX_BULK_EVENTS:
        errors.add(
            "events",
            f"events must contain at most {MAX_BULK_EVENTS} events (it has {len(events)}).",
        )
    errors.raise_any()
    assert isinstance(events, list)
    return events


def parse_event(body: Any, store_id: int, limits: Limits) -> CanonicalEvent:
    """One custom event, limits checked first; raises :class:`AppError` (400) if invalid."""
    if not isinstance(body, dict):
        raise InvalidRequest({"body": ["The event must be a JSON object."]})
    _check_limits(body, limits)
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


def parse_or_error(body: Any, store_id: int, limits: Limits) -> CanonicalEvent | AppError:
    """:func:`parse_event` for one event of a bulk request, which fails on its own."""
    try:
        return parse_event(body, store_id, limits)
    except AppError as exc:
        return exc


def ingest_error(error: AppError) -> AppError:
    """The Redo answer for an event the resolver refused. Only an unknown ``customer.id``
    with nothing else to go by gets here; the document promises no 404 for it."""
    if isinstance(error, NotFound):
        return InvalidRequest(
            {
                "customer.id": [
                    "customer.id matches no customer; add customer.email or "
                    "customer.phoneNumber so that one can be created."
                ]
            }
        )
    return error


# -- limits ------------------------------------------------------------------------------------


def _check_limits(body: dict[str, Any], limits: Limits) -> None:
    """400 properties in ``data``, 100 KB per string anywhere: before any other work."""
    data = body.get("data")
    if isinstance(data, dict) and len(data) > limits.max_properties:
        raise LimitExceeded(
            f"data must not exceed {limits.max_properties} properties (it has {len(data)})."
        )
    check_limits(body, replace(limits, max_properties=sys.maxsize))


# -- fields ------------------------------------------------------------------------------------


def _event_name(value: Any, errors: FieldErrors) -> str:
    if value is None or value == "":
        errors.add("eventName", "eventName is required.")
    elif not isinstance(value, str):
        errors.add("eventName", "eventName must be a string.")
    elif not value.strip():
        errors.add("eventName", "eventName must not be blank.")
    elif len(value) > MAX_EVENT_NAME:
        errors.add("eventName", f"eventName must be at most {MAX_EVENT_NAME} characters.")
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
    email = _text(value, "email", "customer.email", errors, MAX_EMAIL)
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
        if contact_ref.isascii() and contact_ref.isdigit() and int(contact_ref) <= _MAX_CONTACT_ID:
            hints.add("contact_id", contact_ref)
    hints.add("email", normalize_email(email))
    hints.add("phone", phone)

    for field, column in (("firstName", "first_name"), ("lastName", "last_name")):
        text = _text(value, field, f"customer.{field}", errors, MAX_NAME)
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
    zone = _text(value, "ianaTimeZoneName", "customer.location.ianaTimeZoneName", errors, 64)
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
