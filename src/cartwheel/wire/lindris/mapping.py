"""Lindris bodies → validated (Laravel's rules and messages) → canonical events.

Generic events keep ``eventName`` as the name and split ``properties``. Lifecycle events are
named ``{type}_{action}`` and carry their record in ``entity`` (the shapes of
:mod:`cartwheel.ingest.entities`); their other scalar fields are the event's properties and
nested ones its extra.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from cartwheel.identity.addresses import normalize_email, normalize_external_id, normalize_phone
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.entities import (
    AddressEntity,
    CartEntity,
    CustomerEntity,
    LineItemEntity,
    OrderEntity,
    ProductEntity,
    ProductVariantEntity,
    SubscriptionEntity,
)
from cartwheel.ingest.properties import parse_iso_datetime, split_properties
from cartwheel.limits import CONTACT_COLUMN_MAX
from cartwheel.wire.lindris.requests import GENERIC_FIELDS, EventType
from cartwheel.wire.lindris.validation import (
    REQUIRED_WITHOUT,
    FieldSpec,
    Validator,
    display_name,
    is_blank,
    laravel_input,
)

#: Fields that say who and how, not what happened: never event properties.
_CONTROL = frozenset(
    ("eventName", "email", "referenceId", "uuid", "source", "silent", "test", "is_contact")
)

#: Without an explicit occurrence time, the record's own timestamp for the action.
_ACTION_TIMESTAMP = {"created": "created_at", "updated": "modified_at", "deleted": "deleted_at"}


_IDENTITY = ("email", "referenceId", "uuid")


def to_canonical(
    store_id: int, data: dict[str, Any], event_type: EventType | None, action: str
) -> CanonicalEvent:
    """The canonical event of a decoded body: a lifecycle one when ``event_type`` is given."""
    data = laravel_input(data)
    if event_type is None:
        return generic_event(store_id, validate(GENERIC_FIELDS, data))
    return lifecycle_event(store_id, event_type, action, validate(event_type.fields, data))


def validate(specs: tuple[FieldSpec, ...], data: dict[str, Any]) -> dict[str, Any]:
    """The documented fields of ``data``, cast, or :class:`ValidationFailed` with Laravel's
    messages. Errors are listed in the document's order: the required fields first, then
    the identity rule (``email`` is required unless ``referenceId`` or ``uuid`` is given)."""
    validator = Validator()
    ordered = tuple(s for s in specs if s.name not in _IDENTITY) + tuple(
        s for s in specs if s.name in _IDENTITY
    )
    cleaned = validator.fields(ordered, data)
    if all(is_blank(data.get(name)) for name in _IDENTITY):
        validator.fail("email", "email", REQUIRED_WITHOUT, values=display_name("referenceId"))
    validator.raise_if_failed()
    return cleaned


def generic_event(store_id: int, data: dict[str, Any]) -> CanonicalEvent:
    properties = data.get("properties")
    if isinstance(properties, dict):
        split = split_properties(properties)
    else:
        # A PHP list is an array too; it has no keys to segment on.
        split = split_properties({}, {"properties": properties} if properties else None)
    return CanonicalEvent(
        store_id=store_id,
        name=data["eventName"],
        identity=identity(data),
        source=data["source"],
        properties=split.properties,
        property_types=split.property_types,
        extra=split.extra,
        silent=data.get("silent", False),
        test=data.get("test", False),
    )


def lifecycle_event(
    store_id: int, event_type: EventType, action: str, data: dict[str, Any]
) -> CanonicalEvent:
    occurred_field = event_type.occurred_field
    record = {k: v for k, v in data.items() if k not in _CONTROL and k != occurred_field}
    split = split_properties(record)
    entity = ENTITY_BUILDERS[event_type.name](data)
    value, currency = None, None
    if event_type.name in ("order", "cart"):
        value = data.get("total")
        currency = _currency(data.get("currency"))
    return CanonicalEvent(
        store_id=store_id,
        name=f"{event_type.name}_{action}",
        identity=identity(data, event_type.name),
        category=event_type.name,
        action=action,
        occurred_at=_occurred_at(data, occurred_field, action),
        source=data["source"],
        profile=contact_patch(event_type.name, data) if data.get("is_contact") else None,
        properties=split.properties,
        property_types=split.property_types,
        extra=split.extra,
        entity=dict(entity),
        value=float(value) if value is not None else None,
        currency=currency,
        silent=data.get("silent", False),
        test=data.get("test", False),
    )


def identity(data: dict[str, Any], event_type: str | None = None) -> IdentityHints:
    """The document's priority: a previous response's ``uuid``, then ``referenceId``, then
    ``email``; a customer's or order's phone last."""
    hints = IdentityHints()
    hints.add("contact_uuid", data.get("uuid"))
    hints.add("external", normalize_external_id(data.get("referenceId")))
    hints.add("email", normalize_email(data.get("email")))
    if event_type == "customer" and data.get("is_contact") and "email" not in data:
        # A customer's own email ("can differ from identifying email") names the contact
        # being synced only when the request has no identifying email; otherwise attaching
        # it would re-point the contact's email at another address.
        hints.add("email", normalize_email(data.get("customer_email")))
    if event_type in ("customer", "order"):
        hints.add("phone", normalize_phone(data.get("phone")))
    return hints


def contact_patch(event_type: str, data: dict[str, Any]) -> ProfilePatch:
    """``is_contact``: the customer's or user's own fields onto the contact. ``source`` is
    applied by the resolver only when it creates the contact."""
    fields: dict[str, Any] = {
        "first_name": data.get("first_name"),
        "last_name": data.get("last_name"),
        "name": data.get("display_name") if event_type == "user" else data.get("name"),
    }
    address = next(
        (data[k] for k in ("address", "billing_address", "shipping_address") if data.get(k)),
        None,
    )
    if address:
        fields |= {
            "company_name": address.get("company"),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "state": address.get("state"),
            "zip": address.get("postal_code"),
            "country": address.get("country"),
        }
        country = address.get("country")
        if isinstance(country, str) and len(country) == 2 and country.isalpha():
            fields["country_code"] = country.upper()
    return ProfilePatch(fields=_fitting(fields), source=data["source"])


# -- entities ---------------------------------------------------------------------------


def _pick(data: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """``{entity key: data[request key]}`` for the request keys that are present."""
    return {target: data[source] for target, source in mapping.items() if source in data}


_LINE_ITEM = {
    "product_id": "id",
    "variant_id": "variant_id",
    "name": "name",
    "sku": "sku",
    "url": "url",
    "image_url": "image_url",
    "brand": "brand",
    "price": "price",
    "quantity": "quantity",
    "total": "total",
    "discounts": "discounts",
    "taxes": "taxes",
    "fees": "fees",
    "shipping": "shipping",
}
_ADDRESS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "state": "state",
    "zip": "postal_code",
    "country": "country",
    "phone": "phone",
}
_CART = {
    "id": "id",
    "total": "total",
    "total_products": "total_products",
    "currency": "currency",
    "url": "url",
    "modified_at": "modified_at",
}
_PRODUCT = {
    key: key
    for key in (
        "id",
        "name",
        "description",
        "url",
        "image_url",
        "price",
        "currency",
        "sku",
        "barcode",
        "categories",
        "tags",
        "vendor",
        "brand",
        "type",
        "created_at",
        "modified_at",
    )
}
_VARIANT = {key: key for key in ("id", "sku", "price", "barcode", "options")}
_ORDER = {
    "id": "id",
    "number": "publicId",
    "status": "status",
    "currency": "currency",
    "total": "total",
    "total_tax": "taxes",
    "total_discounts": "discounts",
    "total_shipping": "shipping",
    "payment_method": "payment_gateway",
    "url": "url",
}
_SUBSCRIPTION = {"id": "id", "currency": "currency", "url": "url"}
_CUSTOMER = {
    key: key
    for key in (
        "id",
        "status",
        "url",
        "avatar_url",
        "purchase_count",
        "purchase_value",
        "created_at",
        "modified_at",
    )
}
_USER = {
    key: key
    for key in (
        "id",
        "username",
        "role",
        "status",
        "url",
        "avatar_url",
        "created_at",
        "modified_at",
        "last_login",
    )
}


def _items(data: dict[str, Any]) -> list[LineItemEntity]:
    return [cast(LineItemEntity, _pick(p, _LINE_ITEM)) for p in data.get("products", [])]


def _address(data: dict[str, Any]) -> AddressEntity:
    return cast(AddressEntity, _pick(data, _ADDRESS))


def cart_entity(data: dict[str, Any]) -> CartEntity:
    cart = cast(CartEntity, _pick(data, _CART))
    if "products" in data:
        cart["items"] = _items(data)
    return cart


def product_entity(data: dict[str, Any]) -> ProductEntity:
    product = cast(ProductEntity, _pick(data, _PRODUCT))
    if "variants" in data:
        product["variants"] = [
            cast(ProductVariantEntity, _pick(v, _VARIANT)) for v in data["variants"]
        ]
    return product


def order_entity(data: dict[str, Any]) -> OrderEntity:
    order = cast(OrderEntity, _pick(data, _ORDER))
    if "status" in order:
        order["status"] = order["status"].lower()
    if "products" in data:
        order["items"] = _items(data)
    if "billing_address" in data:
        order["billing_address"] = _address(data["billing_address"])
    if "shipping_address" in data:
        order["shipping_address"] = _address(data["shipping_address"])
    return order


def subscription_entity(data: dict[str, Any]) -> SubscriptionEntity:
    subscription = cast(SubscriptionEntity, _pick(data, _SUBSCRIPTION))
    if "products" in data:
        subscription["items"] = _items(data)
    return subscription


def customer_entity(data: dict[str, Any]) -> CustomerEntity:
    return cast(CustomerEntity, _pick(data, _CUSTOMER))


def user_entity(data: dict[str, Any]) -> CustomerEntity:
    return cast(CustomerEntity, _pick(data, _USER))


ENTITY_BUILDERS: dict[str, Callable[[dict[str, Any]], Mapping[str, object]]] = {
    "cart": cart_entity,
    "product": product_entity,
    "order": order_entity,
    "subscription": subscription_entity,
    "customer": customer_entity,
    "user": user_entity,
}


# -- helpers ----------------------------------------------------------------------------


def _occurred_at(data: dict[str, Any], occurred_field: str | None, action: str) -> datetime | None:
    """The explicit occurrence time, else the record's timestamp for this action (a
    customer's ``created_at`` for ``customer/created``), else None (the time received)."""
    for field in (occurred_field, _ACTION_TIMESTAMP.get(action)):
        if field and isinstance(data.get(field), str):
            return parse_iso_datetime(data[field])
    return None


def _currency(value: Any) -> str | None:
    """The event's currency column holds an ISO 4217 code; anything else stays a property."""
    if isinstance(value, str) and len(value) == 3 and value.isalpha():
        return value.upper()
    return None


def _fitting(fields: dict[str, Any]) -> dict[str, Any]:
    """The given fields whose values fit their contact column (a longer value stays on the
    event only, rather than failing the whole write)."""
    out: dict[str, Any] = {}
    for column, value in fields.items():
        if value is None:
            continue
        length = CONTACT_COLUMN_MAX.get(column)
        if length is None or len(value) <= length:
            out[column] = value
    return out
