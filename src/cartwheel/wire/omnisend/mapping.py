"""Validating an Omnisend ``/v5/events`` request and mapping it to a canonical event.

``paid for order`` (event version v2) is checked against the document's property table and
becomes an ``order``/``paid`` lifecycle event carrying an :class:`OrderEntity`; any other
event name is a custom event whose properties are stored as sent.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from cartwheel.identity.addresses import (
    is_valid_email,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.entities import AddressEntity, LineItemEntity, OrderEntity
from cartwheel.ingest.properties import parse_iso_datetime, split_properties
from cartwheel.kit.validation import FieldErrors
from cartwheel.limits import EVENT_NAME_MAX, IDENTIFIER_MAX, SOURCE_MAX

PAID_FOR_ORDER = "paid for order"


_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_BIRTHDATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Omnisend contact field → (contact column, Omnisend's maxLength).
_CONTACT_TEXT: dict[str, tuple[str, int]] = {
    "firstName": ("first_name", 50),
    "lastName": ("last_name", 50),
    "address": ("address1", 500),
    "city": ("city", 100),
    "state": ("state", 100),
    "postalCode": ("zip", 20),
    "country": ("country", 100),
    "countryCode": ("country_code", 3),
}


# -- the document's property table, as checks ---------------------------------------------------

Check = Callable[[Any, str, FieldErrors], None]


def _is_number(value: Any) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer literal too large for a double
        return False


def _string(value: Any, path: str, errors: FieldErrors) -> None:
    if not isinstance(value, str):
        errors.add(path, f"'{path}' must be a string")


def _number(value: Any, path: str, errors: FieldErrors) -> None:
    if not _is_number(value):
        errors.add(path, f"'{path}' must be a number")


def _boolean(value: Any, path: str, errors: FieldErrors) -> None:
    if not isinstance(value, bool):
        errors.add(path, f"'{path}' must be a boolean")


def _string_or_number(value: Any, path: str, errors: FieldErrors) -> None:
    # The document's table and its own example disagree on these fields (orderNumber is a
    # "number" sent as "4122111", productSKU a "string" sent as 200): both are accepted.
    if not isinstance(value, str) and not _is_number(value):
        errors.add(path, f"'{path}' must be a string or a number")


def _date_string(value: Any, path: str, errors: FieldErrors) -> None:
    if not isinstance(value, str) or parse_iso_datetime(value) is None:
        errors.add(path, f"'{path}' must be an ISO 8601 date string, e.g. 2023-11-10T07:00:00")


def _currency(value: Any, path: str, errors: FieldErrors) -> None:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        errors.add(path, f"'{path}' must be a 3-letter ISO 4217 currency code, e.g. EUR")


def _object(fields: dict[str, Check]) -> Check:
    """An object whose known fields are checked; other fields are allowed and kept."""

    def check(value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, dict):
            errors.add(path, f"'{path}' must be an object")
            return
        for key, field_check in fields.items():
            item = value.get(key)
            if item is not None:
                field_check(item, f"{path}.{key}" if path else key, errors)

    return check


def _array(items: Check) -> Check:
    def check(value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, list):
            errors.add(path, f"'{path}' must be an array")
            return
        for index, item in enumerate(value):
            if item is not None:
                items(item, f"{path}[{index}]", errors)

    return check


_ADDRESS = _object(
    {
        key: _string
        for key in (
            "address1",
            "address2",
            "city",
            "company",
            "country",
            "firstName",
            "lastName",
            "phone",
            "state",
            "stateCode",
            "zip",
        )
    }
)

_LINE_ITEM = _object(
    {
        "productCategories": _array(_object({"id": _string, "title": _string})),
        "productDescription": _string,
        "productDiscount": _number,
        "productID": _string,
        "productImageURL": _string,
        "productPrice": _number,
        "productQuantity": _number,
        "productSKU": _string_or_number,
        "productStrikeThroughPrice": _number,  # removed from the document; still tolerated
        "productTags": _array(_string),
        "productTitle": _string,
        "productURL": _string,
        "productVariantID": _string,
        "productVariantImageURL": _string,
        "productVariantTitle": _string,
        "productVendor": _string,
        "productWeight": _number,
    }
)

# The example sends discounts[].amount "-" where the table says number: strings pass too.
_DISCOUNT = _object({"amount": _string_or_number, "code": _string, "type": _string})

PAID_FOR_ORDER_PROPERTIES = _object(
    {
        "billingAddress": _ADDRESS,
        "createdAt": _date_string,
        "currency": _currency,
        "discounts": _array(_DISCOUNT),
        "fulfillmentStatus": _string,
        "lineItems": _array(_LINE_ITEM),
        "note": _string,
        "orderID": _string,
        "orderNumber": _string_or_number,
        "orderStatusURL": _string,
        "paymentMethod": _string,
        "paymentStatus": _string,
        "shippingAddress": _ADDRESS,
        "shippingMethod": _string,
        "shippingPrice": _number,
        "subTotalPrice": _number,
        "subTotalTaxIncluded": _boolean,
        "tags": _array(_string),
        "totalDiscount": _number,
        "totalPrice": _number,
        "totalTax": _number,
        "tracking": _object(
            {"code": _string, "courierTitle": _string, "courierURL": _string, "status": _string}
        ),
    }
)


# -- the request ---------------------------------------------------------------------------------


def to_canonical(body: dict[str, Any], store_id: int) -> CanonicalEvent:
    """The canonical event of a ``/v5/events`` body (a JSON object, within the payload
    limits); raises a 400 error naming every invalid field."""
    errors = FieldErrors()
    name = _required_text(body, "eventName", EVENT_NAME_MAX, errors)
    origin = _required_text(body, "origin", SOURCE_MAX, errors)
    version = body.get("eventVersion")
    if version is not None:
        _string(version, "eventVersion", errors)
    occurred_at = None
    event_time = body.get("eventTime")
    if event_time is not None:
        occurred_at = parse_iso_datetime(event_time) if isinstance(event_time, str) else None
        if occurred_at is None:
            errors.add(
                "eventTime",
                "'eventTime' must be an ISO 8601 timestamp, e.g. 2021-07-01T00:00:00Z",
            )
    event_id = _event_id(body.get("eventID"), errors)
    identity, profile = _contact(body.get("contact"), errors)
    profile.source = origin or None
    properties = body.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        errors.add("properties", "'properties' must be an object")
    elif name == PAID_FOR_ORDER:
        PAID_FOR_ORDER_PROPERTIES(properties, "properties", errors)
    errors.raise_any()
    assert isinstance(properties, dict)

    split = split_properties(properties)
    event = CanonicalEvent(
        store_id=store_id,
        name=name,
        identity=identity,
        occurred_at=occurred_at,
        source=origin,
        profile=profile,
        properties=split.properties,
        property_types=split.property_types,
        extra=split.extra,
    )
    if event_id is not None and occurred_at is not None:
        # Omnisend deduplicates on eventID together with eventTime.
        event.dedup_key = f"{event_id}@{occurred_at.isoformat()}"
    if name == PAID_FOR_ORDER:
        order = order_entity(properties)
        event.category, event.action, event.entity = "order", "paid", dict(order)
        event.value = _order_value(properties)
        event.currency = order.get("currency")
    return event


def _required_text(body: dict[str, Any], key: str, longest: int, errors: FieldErrors) -> str:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add(key, f"'{key}' is required")
    elif not isinstance(value, str):
        errors.add(key, f"'{key}' must be a string")
    elif len(value) > longest:
        errors.add(key, f"'{key}' must be at most {longest} characters")
    else:
        return value.strip()
    return ""


def _event_id(value: Any, errors: FieldErrors) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    errors.add("eventID", "'eventID' must be a UUID")
    return None


def _contact(value: Any, errors: FieldErrors) -> tuple[IdentityHints, ProfilePatch]:
    hints = IdentityHints()
    patch = ProfilePatch()
    if value is None:
        errors.add("contact", "'contact' is required")
        return hints, patch
    if not isinstance(value, dict):
        errors.add("contact", "'contact' must be an object")
        return hints, patch

    external = _text(value, "id", "contact.id", IDENTIFIER_MAX, errors)
    email = _text(value, "email", "contact.email", IDENTIFIER_MAX, errors)
    if email is not None and not is_valid_email(email):
        errors.add("contact.email", "'contact.email' must be a valid email address")
        email = None
    raw_phone = _text(value, "phone", "contact.phone", None, errors)
    phone = normalize_phone(raw_phone) if raw_phone is not None else None
    if raw_phone is not None and phone is None:
        errors.add(
            "contact.phone", "'contact.phone' must be a valid phone number, e.g. +443031237300"
        )
    identifier_errors = any(f"contact.{key}" in errors.fields for key in ("id", "email", "phone"))
    if external is None and email is None and raw_phone is None and not identifier_errors:
        errors.add("contact", "'contact' must have at least one of 'id', 'email' or 'phone'")
    # Omnisend's priority: the contact id, then email, then phone.
    hints.add("external", normalize_external_id(external))
    hints.add("email", normalize_email(email))
    hints.add("phone", phone)

    for key, (column, longest) in _CONTACT_TEXT.items():
        text = _text(value, key, f"contact.{key}", longest, errors)
        if text is not None:
            patch.fields[column] = text.upper() if column == "country_code" else text
    patch.custom_fields = _custom_properties(value, errors)
    for key in ("tags", "consents", "optIns", "optOuts"):
        if value.get(key) is not None and not isinstance(value[key], list):
            errors.add(f"contact.{key}", f"'contact.{key}' must be an array")
    return hints, patch


def _custom_properties(contact: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    raw = contact.get("customProperties")
    if raw is not None:
        if isinstance(raw, dict):
            # Scalars typed like event properties (ISO-8601 dates normalized); others as sent.
            custom = {**raw, **split_properties(raw).properties}
        else:
            errors.add("contact.customProperties", "'contact.customProperties' must be an object")
    birthdate = contact.get("birthdate")
    if birthdate is not None:
        if isinstance(birthdate, str) and _BIRTHDATE.match(birthdate) and _is_date(birthdate):
            custom["birthdate"] = birthdate
        else:
            errors.add("contact.birthdate", "'contact.birthdate' must be a date as YYYY-MM-DD")
    gender = contact.get("gender")
    if gender is not None:
        if gender in ("m", "f"):
            custom["gender"] = gender
        else:
            errors.add("contact.gender", "'contact.gender' must be one of: m, f")
    return custom


# -- the order of a "paid for order" event -------------------------------------------------------


def order_entity(properties: dict[str, Any]) -> OrderEntity:
    """The canonical order of an already validated ``paid for order`` property set."""
    p = properties
    order: dict[str, Any] = {
        "id": p.get("orderID"),
        "number": _as_text(p.get("orderNumber")),
        "currency": p["currency"].upper() if p.get("currency") else None,
        "payment_status": p.get("paymentStatus"),
        "fulfillment_status": p.get("fulfillmentStatus"),
        "total": p.get("totalPrice"),
        "subtotal": p.get("subTotalPrice"),
        "total_tax": p.get("totalTax"),
        "total_discounts": p.get("totalDiscount"),
        "total_shipping": p.get("shippingPrice"),
        "discount_codes": [_discount(d) for d in p.get("discounts") or [] if d is not None],
        "items": [_line_item(i) for i in p.get("lineItems") or [] if i is not None],
        "billing_address": _address(p.get("billingAddress")),
        "shipping_address": _address(p.get("shippingAddress")),
        "shipping_method": p.get("shippingMethod"),
        "payment_method": p.get("paymentMethod"),
        "note": p.get("note"),
        "url": p.get("orderStatusURL"),
        "tags": p.get("tags"),
        "tracking": _compact(
            {
                "code": (t := p.get("tracking") or {}).get("code"),
                "courier_title": t.get("courierTitle"),
                "courier_url": t.get("courierURL"),
                "status": t.get("status"),
            }
        ),
        "created_at": _iso(p.get("createdAt")),
    }
    return cast(OrderEntity, _compact(order))


def _line_item(item: dict[str, Any]) -> LineItemEntity:
    price, quantity = item.get("productPrice"), item.get("productQuantity")
    categories = [c.get("title") for c in item.get("productCategories") or [] if c is not None]
    line: dict[str, Any] = {
        "product_id": item.get("productID"),
        "variant_id": item.get("productVariantID"),
        "name": item.get("productTitle"),
        "variant_name": item.get("productVariantTitle"),
        "sku": _as_text(item.get("productSKU")),
        "url": item.get("productURL"),
        "image_url": item.get("productVariantImageURL") or item.get("productImageURL"),
        "vendor": item.get("productVendor"),
        "categories": [c for c in categories if c],
        "price": price,
        "quantity": quantity,
        "discounts": item.get("productDiscount"),
        "weight": item.get("productWeight"),
        "total": _times(price, quantity),
    }
    return cast(LineItemEntity, _compact(line))


def _address(value: dict[str, Any] | None) -> AddressEntity | None:
    if not value:
        return None
    address = {
        "first_name": value.get("firstName"),
        "last_name": value.get("lastName"),
        "company": value.get("company"),
        "address1": value.get("address1"),
        "address2": value.get("address2"),
        "city": value.get("city"),
        "state": value.get("state"),
        "state_code": value.get("stateCode"),
        "zip": value.get("zip"),
        "country": value.get("country"),
        "phone": value.get("phone"),
    }
    return cast(AddressEntity, _compact(address))


def _discount(value: dict[str, Any]) -> dict[str, Any]:
    # A non-numeric amount (the document's example sends "-") is left out.
    amount = _float(_decimal(value.get("amount")))
    return _compact({"code": value.get("code"), "amount": amount, "type": value.get("type")})


def _order_value(properties: dict[str, Any]) -> float | None:
    """The order's total: ``totalPrice`` when given, else the sum of its line items."""
    total = properties.get("totalPrice")
    if total is not None:
        return float(total)
    total, priced = Decimal(0), False
    for item in properties.get("lineItems") or []:
        price = _decimal((item or {}).get("productPrice"))
        quantity = _decimal((item or {}).get("productQuantity"))
        if price is not None and quantity is not None:
            total, priced = total + price * quantity, True
    return _float(total) if priced else None


# -- small helpers --------------------------------------------------------------------------------


def _text(
    obj: dict[str, Any], key: str, path: str, longest: int | None, errors: FieldErrors
) -> str | None:
    """An optional string field, stripped; null and "" count as absent."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(path, f"'{path}' must be a string")
        return None
    value = value.strip()
    if longest is not None and len(value) > longest:
        errors.add(path, f"'{path}' must be at most {longest} characters")
        return None
    return value or None


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {}}


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _iso(value: str | None) -> str | None:
    parsed = parse_iso_datetime(value) if value else None
    return parsed.isoformat().replace("+00:00", "Z") if parsed else None


def _decimal(value: Any) -> Decimal | None:
    """A number (or numeric string) as an exact decimal; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _float(value: Decimal | None) -> float | None:
    number = float(value) if value is not None else None
    return number if number is not None and math.isfinite(number) else None


def _times(price: Any, quantity: Any) -> float | None:
    """price × quantity without binary-float noise (19.99 × 2 is 39.98)."""
    a, b = _decimal(price), _decimal(quantity)
    return _float(a * b) if a is not None and b is not None else None
