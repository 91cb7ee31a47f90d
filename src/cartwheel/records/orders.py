"""Order events: every action upserts the order by the store's order id and links it to
the event's contact. The action then says what happened:

* ``completed`` sets the status to completed; ``paid`` marks the order paid. Either one
  converts the contact's open (or abandoned) carts into this order.
* ``deleted`` archives the order (status ``archived``, ``deleted_at`` set); it stays
  readable, as the API's ``ARCHIVED`` status does.
* ``created`` / ``updated`` take the status the entity carries; any other action that
  names a status (``cancelled``, ``refunded``, ``shipped``…) sets that status.

An event older than the last one applied to the order is stale: it changes nothing, so
replaying a store's history never flips an order back through its old states.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from cartwheel.models import Contact, Event, Order
from cartwheel.orders import repository as orders
from cartwheel.orders import service as orders_service
from cartwheel.records import carts
from cartwheel.records.values import (
    entity_id,
    entity_of,
    integer,
    is_stale,
    moment,
    number,
    strings,
    text,
)

# The store platform's status words, mapped to the API's five statuses.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("pending", "processing", "on-hold", "on_hold", "open", "new", "draft", "authorized"),
        "pending",
    ),
    **dict.fromkeys(("shipped", "fulfilled", "partially_fulfilled", "in_transit"), "shipped"),
    **dict.fromkeys(("completed", "complete", "delivered"), "completed"),
    **dict.fromkeys(("canceled", "cancelled", "refunded", "voided", "failed"), "canceled"),
    **dict.fromkeys(("archived", "deleted", "trash"), "archived"),
}
_PAID_WORDS = frozenset(("paid", "captured", "succeeded", "completed"))
_DISCOUNT_TYPES: dict[str, str] = {
    **dict.fromkeys(("fixed_discount", "fixed", "fixed_amount", "fixed_cart"), "fixed_discount"),
    **dict.fromkeys(("percent_discount", "percent", "percentage"), "percent_discount"),
    **dict.fromkeys(("free_shipping", "shipping"), "free_shipping"),
}
_INVOICE_NO = re.compile(r"^#?(\d{1,9})$")
# The entity's free-form tracking keys that fill the API's fulfillment fields.
_TRACKING_KEYS: dict[str, tuple[str, ...]] = {
    "courier": ("courier", "courier_title", "carrier", "company"),
    "trackingNo": ("code", "number", "tracking_number"),
    "trackingUrl": ("url", "courier_url", "tracking_url"),
}


def handle(session: Session, event: Event) -> None:
    external_id = entity_id(event)
    if external_id is None:
        return
    entity = entity_of(event)
    order = orders.order_by_external_id(session, event.store_id, external_id)
    if order is not None and is_stale(event, order.synced_at):
        return
    items = _items(entity["items"]) if isinstance(entity.get("items"), list) else None
    values = _values(session, event, entity, order, items)
    saved = orders_service.save_order(
        session,
        event.store_id,
        order,
        values,
        items,
        external_id=external_id,
        emit=not event.silent,
    )
    if event.action in ("completed", "paid") and event.contact_id is not None:
        carts.convert(session, event.store_id, event.contact_id, saved.id, event.occurred_at)


def _values(
    session: Session,
    event: Event,
    entity: dict[str, Any],
    order: Order | None,
    items: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """Order columns from an ``OrderEntity`` and the event: only what they carry."""
    values: dict[str, Any] = {}
    contact = session.get(Contact, event.contact_id) if event.contact_id is not None else None
    if contact is not None:
        values["contact_id"] = contact.id

    match = _INVOICE_NO.match(text(entity.get("number")) or "")
    if match:
        values["invoice_no"] = int(match.group(1))

    for column, key in (
        ("sub_total", "subtotal"),
        ("discount_amount", "total_discounts"),
        ("shipping_amount", "total_shipping"),
    ):
        amount = number(entity.get(key))
        if amount is not None:
            values[column] = amount
    total = number(entity.get("total"))
    if total is None:
        total = event.value
    if total is not None:
        values["total"] = total
    if "sub_total" not in values and items:
        values["sub_total"] = sum(i["total"] for i in items)
    currency = text(entity.get("currency"), 8) or event.currency
    if currency:
        values["currency"] = currency.upper()
    tax = number(entity.get("total_tax"))
    if tax is not None:
        values["taxes"] = [{"name": "Tax", "total": tax}]
    values.update(_discount(entity.get("discount_codes")))

    for column, key, limit in (
        ("shipping_name", "shipping_method", 300),
        ("payment_method", "payment_method", 100),
        ("url", "url", 2000),
    ):
        value = text(entity.get(key), limit)
        if value:
            values[column] = value
    if isinstance(entity.get("tags"), list):
        values["tags"] = strings(entity["tags"])
    tracking = _tracking(entity.get("tracking"))
    if tracking:
        current = (order.fulfillment or {}) if order is not None else {}
        values["fulfillment"] = {**current, **tracking}
    note = text(entity.get("note"), 5000)
    notes = list(order.notes) if order is not None else []
    if note and all(n.get("value") != note for n in notes):
        notes.append({"time": int(event.occurred_at.timestamp()), "value": note})
        values["notes"] = notes

    billing = _address(entity.get("billing_address"))
    shipping = _address(entity.get("shipping_address"))
    if billing is not None:
        values["billing_address"] = billing
    if shipping is not None:
        values["shipping_address"] = shipping
    email = _email(entity.get("billing_address")) or (contact.email if contact else None)
    if email and (billing is not None or order is None or not order.customer_email):
        values["customer_email"] = email
    name = ((billing or {}).get("name") or _contact_name(contact) or "")[:300]
    if name and (billing is not None or order is None or not order.customer_name):
        values["customer_name"] = name

    created = moment(entity.get("created_at"))
    if created is not None:
        values["created_at"] = created
    elif order is None:
        values["created_at"] = event.occurred_at

    values.update(_status(event, entity, order))
    values["synced_at"] = event.occurred_at
    return values


def _status(event: Event, entity: dict[str, Any], order: Order | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    raw = (text(entity.get("status"), 50) or "").lower()
    if raw:
        values["platform_status"] = raw
        if raw in STATUS_WORDS:
            values["status"] = STATUS_WORDS[raw]
    fulfillment = (text(entity.get("fulfillment_status")) or "").lower()
    shipped = STATUS_WORDS.get(fulfillment) == "shipped"
    if shipped and "status" not in values and (order is None or order.status == "pending"):
        values["status"] = "shipped"
    paid = (text(entity.get("payment_status")) or "").lower() in _PAID_WORDS
    action = event.action or ""
    if action == "completed":
        values["status"] = "completed"
    elif action == "deleted":
        values["status"] = "archived"
        values["deleted_at"] = order.deleted_at if order and order.deleted_at else event.occurred_at
    elif action in STATUS_WORDS:
        values["status"] = STATUS_WORDS[action]
    if values.get("status") == "completed":
        values["completed_at"] = (
            order.completed_at if order and order.completed_at else event.occurred_at
        )
    if action == "paid" or paid:
        values["paid"] = True
        values["paid_at"] = order.paid_at if order and order.paid_at else event.occurred_at
    return values


def _items(raw: list[Any]) -> list[dict[str, Any]]:
    """Order line columns from ``LineItemEntity`` values."""
    items: list[dict[str, Any]] = []
    for entity in raw:
        if not isinstance(entity, dict):
            continue
        quantity = integer(entity.get("quantity"))
        quantity = 1 if quantity is None else quantity
        price = number(entity.get("price")) or 0.0
        total = number(entity.get("total"))
        variant = text(entity.get("variant_name"))
        items.append(
            {
                "name": text(entity.get("name"), 500) or "",
                "url": text(entity.get("url"), 2000),
                "product_external_id": text(entity.get("product_id")),
                "variant_external_id": text(entity.get("variant_id")),
                "sku": text(entity.get("sku"), 200),
                "quantity": quantity,
                "price": price,
                "total": total if total is not None else price * quantity,
                "weight": number(entity.get("weight")) or 0.0,
                "variation": [{"name": "Variant", "value": variant}] if variant else [],
            }
        )
    return items


def _address(value: Any) -> dict[str, Any] | None:
    """An ``AddressEntity`` in the API's address shape."""
    if not isinstance(value, dict):
        return None
    name = " ".join(p for p in (text(value.get("first_name")), text(value.get("last_name"))) if p)
    address = {
        "name": name or None,
        "phone": text(value.get("phone")),
        "companyName": text(value.get("company")),
        "country": text(value.get("country")) or text(value.get("country_code")),
        "state": text(value.get("state")) or text(value.get("state_code")),
        "city": text(value.get("city")),
        "zipCode": text(value.get("zip")),
        "address": text(value.get("address1"), 500),
        "address2": text(value.get("address2"), 500),
    }
    kept = {key: v for key, v in address.items() if v is not None}
    return kept or None


def _email(value: Any) -> str | None:
    return text(value.get("email"), 320) if isinstance(value, dict) else None


def _contact_name(contact: Contact | None) -> str | None:
    if contact is None:
        return None
    return contact.name or " ".join(p for p in (contact.first_name, contact.last_name) if p) or None


def _tracking(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    found: dict[str, str] = {}
    for field, keys in _TRACKING_KEYS.items():
        given = next((text(value.get(k), 2000) for k in keys if text(value.get(k))), None)
        if given:
            found[field] = given
    return found


def _discount(value: Any) -> dict[str, Any]:
    """The first discount code: the API's order carries one."""
    if not isinstance(value, list) or not value or not isinstance(value[0], dict):
        return {}
    first = value[0]
    values: dict[str, Any] = {}
    code = text(first.get("code"), 200)
    if code:
        values["discount_code"] = code
    kind = _DISCOUNT_TYPES.get((text(first.get("type")) or "").lower())
    if kind:
        values["discount_type"] = kind
    return values
