"""Cart events keep the contact's cart. A cart is found by the store's cart id or, when the
event names none (the id is optional for carts), as the contact's latest open or abandoned
cart.

* ``created`` / ``updated``: the cart is open with the event's items and total. A converted
  cart stays converted when the event is not newer than the conversion, or when it empties
  the cart (platforms clear the cart right after checkout).
* ``abandoned``: the cart is marked abandoned at the event's time, unless already converted.
* ``added`` / ``removed``: the event's line items are added to (or taken out of) the cart's
  items, by product, variant and SKU, for the formats that send one product at a time
  rather than the whole cart; the cart's total and product count follow its items. A
  converted cart stays as it was bought; a later event starts it afresh.
* An order of the contact that completes or is paid converts its open and abandoned carts
  (:func:`convert`).

An event older than the cart's last one is stale and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cartwheel.models import Cart, Event
from cartwheel.orders import repository as orders
from cartwheel.records.values import entity_of, integer, is_stale, line_items, number, text


def handle(session: Session, event: Event) -> None:
    entity = entity_of(event)
    external_id = text(entity.get("id"))
    cart = _find(session, event, external_id)
    if cart is not None and is_stale(event, cart.updated_at):
        return
    if cart is None:
        if external_id is None and event.contact_id is None:
            return  # nothing to key the cart on
        cart = Cart(
            store_id=event.store_id,
            external_id=external_id,
            status="open",
            items=[],
            created_at=event.occurred_at,
        )
        session.add(cart)
    if event.contact_id is not None:
        cart.contact_id = event.contact_id
    if _stays_converted(cart, event.action or "", event.occurred_at, _is_empty(entity)):
        session.flush()
        return  # the cart as it was bought is kept
    values = _values(entity)
    if event.action in _ITEM_ACTIONS:
        current = [] if cart.status == "converted" else list(cart.items or [])
        values.update(_changed_items(current, values.pop("items", []), event.action == "added"))
    for column, value in values.items():
        setattr(cart, column, value)
    if event.action == "abandoned":
        cart.status = "abandoned"
        cart.abandoned_at = event.occurred_at
    elif event.action in ("created", "updated", *_ITEM_ACTIONS) and cart.status != "open":
        cart.status = "open"
        cart.abandoned_at = None
        cart.converted_at = None
        cart.order_id = None
    cart.updated_at = max(cart.updated_at or event.occurred_at, event.occurred_at)
    session.flush()


_ITEM_ACTIONS = ("added", "removed")


def _line_key(item: dict[str, Any]) -> tuple[Any, ...]:
    return (item.get("product_id"), item.get("variant_id"), item.get("sku"))


def _changed_items(
    current: list[dict[str, Any]], lines: list[dict[str, Any]], adding: bool
) -> dict[str, Any]:
    """The cart's items with ``lines`` added (quantities summed) or removed (their quantity,
    or the whole line when they name none), and the total and count that follow."""
    items = [dict(item) for item in current]
    for line in lines:
        quantity = line.get("quantity")
        step: float | None = quantity if quantity is not None else (1.0 if adding else None)
        match = next((i for i in items if _line_key(i) == _line_key(line)), None)
        if adding:
            assert step is not None
            if match is None:
                items.append({**line, "quantity": step})
                match = items[-1]
            else:
                match.update({k: v for k, v in line.items() if k != "quantity"})
                match["quantity"] = (match.get("quantity") or 0) + step
        elif match is not None:
            left = None if step is None else (match.get("quantity") or 0) - step
            if left is None or left <= 0:
                items.remove(match)
                continue
            match["quantity"] = left
        if match is not None and match.get("price") is not None:
            match["total"] = round(match["price"] * match["quantity"], 2)
    values: dict[str, Any] = {"items": items}
    values["total_products"] = round(sum(i.get("quantity") or 0 for i in items))
    if all(i.get("total") is not None for i in items):
        values["total"] = round(sum(i["total"] for i in items), 2)
    return values


def convert(session: Session, store_id: int, contact_id: int, order_id: int, at: datetime) -> None:
    """The contact bought: its open and abandoned carts become this order."""
    for cart in orders.unconverted_carts(session, store_id, contact_id):
        cart.status = "converted"
        cart.converted_at = at
        cart.order_id = order_id
    session.flush()


def _find(session: Session, event: Event, external_id: str | None) -> Cart | None:
    if external_id is not None:
        return orders.cart_by_external_id(session, event.store_id, external_id)
    if event.contact_id is None:
        return None
    # Without an id the event means the cart the contact is filling: its latest one.
    carts = orders.unconverted_carts(session, event.store_id, event.contact_id)
    return carts[0] if carts else None


def _values(entity: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if isinstance(entity.get("items"), list):
        values["items"] = line_items(entity["items"])
    total = number(entity.get("total"))
    if total is not None:
        values["total"] = total
    count = integer(entity.get("total_products"))
    if count is not None:
        values["total_products"] = count
    currency = text(entity.get("currency"), 8)
    if currency:
        values["currency"] = currency.upper()
    url = text(entity.get("url"), 2000)
    if url:
        values["url"] = url
    return values


def _is_empty(entity: dict[str, Any]) -> bool:
    items = entity.get("items")
    return (isinstance(items, list) and not items) or integer(entity.get("total_products")) == 0


def _stays_converted(cart: Cart, action: str, at: datetime, empties: bool) -> bool:
    if cart.status != "converted":
        return False
    if action == "abandoned":
        return True
    converted_later = cart.converted_at is not None and cart.converted_at >= at
    if action in _ITEM_ACTIONS:
        return converted_later
    return action in ("created", "updated") and (converted_later or empties)
