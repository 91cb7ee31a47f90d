"""Tracking-spec messages → canonical events.

* **Identity.** ``userId`` is the store's external id; a valid ``email`` and ``phone`` in the
  traits (``identify``'s ``traits``, else ``context.traits``, where RudderStack's libraries
  put them, and ``context.traits`` on any call) name the person too,
  in that order. ``anonymousId`` alone names an anonymous profile. When the message also names
  the person, the anonymous id is a *join*: it never picks the contact, and the anonymous
  profile holding it is merged into the person's (recorded, undoable;
  :mod:`cartwheel.identity.resolver`). ``alias`` joins ``previousId`` into ``userId``.
* **Profile.** ``identify``'s traits patch the profile: names, company and address onto their
  columns, every other trait (but email and phone, which are identifiers) a custom field.
* **Event.** ``track`` keeps its ``event`` name; the other calls are named by their type
  (``identify``, ``page``, ``screen``, ``group``, ``alias``). ``properties`` (the traits for
  ``identify`` and ``group``) become the event's properties; ``context`` (with the caller's
  ip when it names none), ``userId``, ``anonymousId`` and ``messageId`` are kept in ``extra``.
  ``messageId`` deduplicates per store. The time is ``timestamp`` (or ``originalTimestamp``)
  corrected by the client's clock skew: plus (received − ``sentAt``).
* **E-commerce.** The spec's e-commerce events become lifecycle events carrying their record
  (:data:`ECOMMERCE`), in the shapes of :mod:`cartwheel.ingest.entities`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from cartwheel.identity.addresses import (
    is_valid_email,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.entities import CartEntity, LineItemEntity, OrderEntity, ProductEntity
from cartwheel.ingest.properties import parse_iso_datetime, split_properties
from cartwheel.kit.validation import FieldErrors
from cartwheel.limits import (
    CONTACT_COLUMN_MAX,
    DEDUP_KEY_MAX,
    EVENT_NAME_MAX,
    IDENTIFIER_MAX,
    SOURCE_MAX,
)
from cartwheel.wire.segment.decode import Message

TYPES = ("track", "identify", "page", "screen", "group", "alias")

#: Event name → (category, action) of the lifecycle record it keeps.
ECOMMERCE: dict[str, tuple[str, str]] = {
    "Product Viewed": ("product", "viewed"),
    "Product Added": ("cart", "added"),
    "Product Removed": ("cart", "removed"),
    "Cart Viewed": ("cart", "updated"),
    "Checkout Started": ("cart", "updated"),
    "Order Completed": ("order", "completed"),
    "Order Updated": ("order", "updated"),
    "Order Refunded": ("order", "refunded"),
    "Order Cancelled": ("order", "cancelled"),
}

#: The source of events whose ``context.library`` names none.
SOURCE = "segment"

# Trait → contact column (both spellings the spec's libraries send).
_NAME_TRAITS = {
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "name": "name",
}
_ADDRESS_TRAITS = {
    "street": "address1",
    "city": "city",
    "state": "state",
    "postalCode": "zip",
    "postal_code": "zip",
    "country": "country",
}
#: Traits that are identifiers or columns, never custom fields.
_NOT_CUSTOM = frozenset(("email", "phone", "company", "address", *_NAME_TRAITS))


def to_canonical(store_id: int, message: Message, client_ip: str | None) -> CanonicalEvent:
    """The canonical event of one message; raises :class:`InvalidRequest` (400) naming every
    invalid field."""
    data = message.data
    errors = FieldErrors()
    kind = message.type or data.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        errors.add("type", f"The type field must be one of: {', '.join(TYPES)}.")
        errors.raise_any()
    assert isinstance(kind, str)
    user_id = _id(data, "userId", errors)
    anonymous_id = _id(data, "anonymousId", errors)
    if user_id is None and anonymous_id is None and "userId" not in errors.fields:
        errors.add("userId", "A message must have a userId or an anonymousId.")
    message_id = _text(data, "messageId", DEDUP_KEY_MAX, errors)
    name = _name(kind, data, errors)
    context = _context(message, client_ip, errors)
    traits = _object(data, "traits", errors) if kind in ("identify", "group") else {}
    raw_traits = context.get("traits")
    context_traits: dict[str, Any] = raw_traits if isinstance(raw_traits, dict) else {}
    if kind == "identify" and not traits:
        traits = context_traits  # RudderStack's libraries send identify's traits there
    properties = _object(data, "properties", errors)
    occurred_at = _occurred_at(message, errors)
    previous_id = _id(data, "previousId", errors) if kind == "alias" else None
    if kind == "alias" and (previous_id is None or user_id is None):
        errors.add("previousId", "An alias needs both previousId and userId.")
    group_id = _id(data, "groupId", errors) if kind == "group" else None
    errors.raise_any()

    person = traits if kind == "identify" else context_traits
    identity = _identity(user_id, anonymous_id, person, context_traits, previous_id)
    profile = _profile(traits) if kind == "identify" else ProfilePatch()
    profile.source = _source(context)

    if kind == "identify":
        properties = dict(traits)
    elif kind == "group":
        properties = {"groupId": group_id, **traits}
    elif kind == "alias":
        properties = {"previousId": previous_id}
    elif kind in ("page", "screen"):
        page = {key: data[key] for key in ("name", "category") if isinstance(data.get(key), str)}
        properties = {**page, **properties}
    split = split_properties(properties)
    ids = {"userId": user_id, "anonymousId": anonymous_id, "messageId": message_id}
    extra = {**split.extra, "context": context, **{k: v for k, v in ids.items() if v}}
    event = CanonicalEvent(
        store_id=store_id,
        name=name,
        identity=identity,
        occurred_at=occurred_at,
        source=profile.source,
        profile=profile,
        properties=split.properties,
        property_types=split.property_types,
        extra=extra,
        dedup_key=message_id,
    )
    lifecycle = ECOMMERCE.get(name) if kind == "track" else None
    if lifecycle is not None:
        category, action = lifecycle
        event.category, event.action = category, action
        event.entity = dict(ENTITY_BUILDERS[category](properties, action))
        event.value = _value(category, properties)
        event.currency = _currency(properties.get("currency"))
    return event


# -- identity and profile -----------------------------------------------------------------


def _identity(
    user_id: str | None,
    anonymous_id: str | None,
    person: dict[str, Any],
    context_traits: dict[str, Any],
    previous_id: str | None,
) -> IdentityHints:
    hints = IdentityHints()
    hints.add("external", user_id)
    hints.add("email", _email(person.get("email") or context_traits.get("email")))
    hints.add("phone", _phone(person.get("phone") or context_traits.get("phone")))
    if previous_id is not None:
        # An earlier anonymous visitor's profile or an earlier user id's contact joins.
        hints.join("anonymous", previous_id)
        hints.join("external", previous_id, claim=False)
    if hints.identifiers:
        hints.join("anonymous", anonymous_id)
    else:
        hints.add("anonymous", anonymous_id)
    return hints


def _email(value: Any) -> str | None:
    email = normalize_email(value) if isinstance(value, str) else None
    return email if email and is_valid_email(email) else None


def _phone(value: Any) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    return normalize_phone(str(value)[:64])


def _profile(traits: dict[str, Any]) -> ProfilePatch:
    """``identify``'s traits onto the contact: the columns' traits, and the rest as custom
    fields. A value longer than its column stays on the event only."""
    fields: dict[str, Any] = {}
    for trait, column in _NAME_TRAITS.items():
        _put(fields, column, traits.get(trait))
    company = traits.get("company")
    _put(fields, "company_name", company.get("name") if isinstance(company, dict) else company)
    address = traits.get("address")
    if isinstance(address, dict):
        for key, column in _ADDRESS_TRAITS.items():
            _put(fields, column, address.get(key))
        country = fields.get("country")
        if isinstance(country, str) and len(country) == 2 and country.isalpha():
            fields["country_code"] = country.upper()
    custom = {k: v for k, v in traits.items() if k not in _NOT_CUSTOM}
    typed = split_properties(custom).properties  # dates normalized like event properties
    return ProfilePatch(fields=fields, custom_fields={**custom, **typed})


def _put(fields: dict[str, Any], column: str, value: Any) -> None:
    if isinstance(value, str) and value.strip() and column not in fields:
        text = value.strip()
        if len(text) <= CONTACT_COLUMN_MAX.get(column, len(text)):
            fields[column] = text


def _source(context: dict[str, Any]) -> str:
    library = context.get("library")
    name = library.get("name") if isinstance(library, dict) else None
    return name.strip()[:SOURCE_MAX] if isinstance(name, str) and name.strip() else SOURCE


# -- the message's fields -------------------------------------------------------------------


def _name(kind: str, data: dict[str, Any], errors: FieldErrors) -> str:
    if kind != "track":
        return kind
    name = data.get("event")
    if not isinstance(name, str) or not name.strip():
        errors.add("event", "A track call needs an event name (a non-empty string).")
        return ""
    if len(name.strip()) > EVENT_NAME_MAX:
        errors.add("event", f"The event name may not be longer than {EVENT_NAME_MAX} characters.")
    return name.strip()


def _id(data: dict[str, Any], key: str, errors: FieldErrors) -> str | None:
    """An id: a string or a number (as text), at most as long as an identifier column."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        errors.add(key, f"The {key} field must be a string.")
        return None
    if isinstance(value, float) and not math.isfinite(value):
        errors.add(key, f"The {key} field must be a string.")
        return None
    text = normalize_external_id(value)
    if text is not None and len(text) > IDENTIFIER_MAX:
        errors.add(key, f"The {key} field may not be longer than {IDENTIFIER_MAX} characters.")
        return None
    return text


def _text(data: dict[str, Any], key: str, longest: int, errors: FieldErrors) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(key, f"The {key} field must be a string.")
        return None
    if len(value) > longest:
        errors.add(key, f"The {key} field may not be longer than {longest} characters.")
        return None
    return value or None


def _object(data: dict[str, Any], key: str, errors: FieldErrors) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add(key, f"The {key} field must be an object.")
        return {}
    return value


def _context(message: Message, client_ip: str | None, errors: FieldErrors) -> dict[str, Any]:
    """The batch's context overlaid by the message's own, with the caller's address as
    ``ip`` when neither names one (what a browser's request came from)."""
    own = _object(message.data, "context", errors)
    context = {**message.context, **own}
    if client_ip and not context.get("ip"):
        context["ip"] = client_ip
    return context


def _occurred_at(message: Message, errors: FieldErrors) -> datetime | None:
    """``timestamp`` (else ``originalTimestamp``), moved by the client's clock skew: the
    time between the client's ``sentAt`` and our receipt. None: the time received."""
    data = message.data
    moment = _moment(data, "timestamp", errors) or _moment(data, "originalTimestamp", errors)
    sent = _moment(data, "sentAt", errors)
    if sent is None and message.sent_at is not None:
        sent = _moment({"sentAt": message.sent_at}, "sentAt", errors)
    if moment is None:
        return None
    return moment + (message.received_at - sent) if sent is not None else moment


def _moment(data: dict[str, Any], key: str, errors: FieldErrors) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    parsed = parse_iso_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        errors.add(key, f"The {key} field must be an ISO 8601 date-time.")
    return parsed


# -- e-commerce records ------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _string(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        return normalize_external_id(value)
    return None


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def line_item(product: dict[str, Any]) -> LineItemEntity:
    """A product of the spec (``product_id``, ``sku``, ``name``, ``price``, ``quantity``…) as a
    canonical line item."""
    price, quantity = _number(product.get("price")), _number(product.get("quantity"))
    category = _string(product.get("category"))
    item = {
        "product_id": _string(product.get("product_id") or product.get("id")),
        "variant_name": _string(product.get("variant")),
        "name": _string(product.get("name")),
        "sku": _string(product.get("sku")),
        "url": _string(product.get("url")),
        "image_url": _string(product.get("image_url")),
        "brand": _string(product.get("brand")),
        "categories": [category] if category else None,
        "price": price,
        "quantity": quantity,
        "total": round(price * quantity, 2) if price is not None and quantity is not None else None,
    }
    return cast(LineItemEntity, _compact(item))


def _items(properties: dict[str, Any]) -> list[LineItemEntity]:
    products = properties.get("products")
    if not isinstance(products, list):
        return []
    return [line_item(p) for p in products if isinstance(p, dict)]


def product_entity(properties: dict[str, Any], _action: str) -> ProductEntity:
    item = line_item(properties)
    product = {
        "id": item.get("product_id") or item.get("sku"),
        "name": item.get("name"),
        "sku": item.get("sku"),
        "url": item.get("url"),
        "image_url": item.get("image_url"),
        "brand": item.get("brand"),
        "categories": item.get("categories"),
        "price": item.get("price"),
        "currency": _currency(properties.get("currency")),
    }
    return cast(ProductEntity, _compact(product))


def cart_entity(properties: dict[str, Any], action: str) -> CartEntity:
    """``Product Added``/``Removed`` carry one product (the record adds or removes it);
    ``Cart Viewed`` and ``Checkout Started`` the whole cart in ``products``."""
    if action in ("added", "removed"):
        items = [line_item(properties)]
        cart: dict[str, Any] = {"id": _string(properties.get("cart_id")), "items": items}
        return cast(CartEntity, _compact(cart))
    items = _items(properties)
    cart = {
        "id": _string(properties.get("cart_id")),
        "items": items if "products" in properties else None,
        "total": _value("cart", properties),
        "total_products": round(sum(i.get("quantity") or 0 for i in items)) if items else None,
        "currency": _currency(properties.get("currency")),
    }
    return cast(CartEntity, _compact(cart))


def order_entity(properties: dict[str, Any], _action: str) -> OrderEntity:
    coupon = _string(properties.get("coupon"))
    order = {
        "id": _string(properties.get("order_id")),
        "currency": _currency(properties.get("currency")),
        "total": _value("order", properties),
        "subtotal": _number(properties.get("subtotal")),
        "total_tax": _number(properties.get("tax")),
        "total_shipping": _number(properties.get("shipping")),
        "total_discounts": _number(properties.get("discount")),
        "discount_codes": [{"code": coupon}] if coupon else None,
        "items": _items(properties) if "products" in properties else None,
    }
    return cast(OrderEntity, _compact(order))


ENTITY_BUILDERS: dict[str, Callable[[dict[str, Any], str], Any]] = {
    "product": product_entity,
    "cart": cart_entity,
    "order": order_entity,
}


def _value(category: str, properties: dict[str, Any]) -> float | None:
    """What the event is worth: an order's ``total`` (else ``revenue``), a cart's ``value``
    (else ``total``, ``revenue``), a product's ``price``."""
    keys = {
        "order": ("total", "revenue", "value"),
        "cart": ("value", "total", "revenue"),
        "product": ("price", "value"),
    }[category]
    for key in keys:
        number = _number(properties.get(key))
        if number is not None:
            return number
    return None


def _currency(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isascii():
        return value.upper()
    return None
