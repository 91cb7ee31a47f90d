"""What a template can name, and the values it sees when a message is rendered.

The records appear in their store data API shapes (the same field names as
``GET /v1/contacts/{id}``, ``/v1/orders/{id}``…), so a merchant reads one vocabulary:

- ``contact``: the contact (``contact.firstName``, ``contact.customFields.size``…)
- ``event``: the triggering event (``event.name``, ``event.properties.sku``,
  ``event["$extra"]``…), ``order`` and ``cart`` with their ``lines``
- ``store`` (``id``, ``name``), ``unsubscribe_url``, ``data`` (a flow's own values)
- the transactional messages' own: ``member``, ``reset_url``, ``reset_expires_at``
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from liquid import BoundTemplate
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.contacts import service as contacts
from cartwheel.contacts.schemas import Contact
from cartwheel.events import queries as events
from cartwheel.events.schemas import EventView, event_view
from cartwheel.kit.requests import is_id
from cartwheel.messages.language import Problem, position
from cartwheel.models import Cart as CartRow
from cartwheel.models import Contact as ContactRow
from cartwheel.models import Event as EventRow
from cartwheel.models import Member, Store
from cartwheel.models import Order as OrderRow
from cartwheel.orders import repository as orders
from cartwheel.orders import service as order_views
from cartwheel.orders.schemas import Cart, Order

#: Every root name and the fields under it (None: any field, as in free-form data).
_FIELDS: dict[str, frozenset[str] | None] = {
    "contact": frozenset(Contact.model_fields),
    "event": frozenset(EventView.model_fields) | {"$extra"},
    "order": frozenset(Order.model_fields) | {"lines"},
    "cart": frozenset(Cart.model_fields) | {"lines"},
    "store": frozenset({"id", "name"}),
    "member": frozenset({"id", "name", "email"}),
    "data": None,
    "unsubscribe_url": frozenset(),
    "reset_url": frozenset(),
    "reset_expires_at": frozenset(),
    # Liquid's own names.
    "forloop": None,
    "tablerowloop": None,
}


def unknown_name(template: BoundTemplate, source: str) -> Problem | None:
    """The first filter that does not exist or variable no message can have that
    ``template`` names, if any."""
    analysis = template.analyze(include_partials=False)
    for filter_name, spans in analysis.filters.items():
        if filter_name not in template.env.filters:
            line, column = position(source, spans[0].index)
            return Problem(f"There is no filter '{filter_name}'.", line, column)
    for name, found in analysis.globals.items():
        for variable in found:
            problem = _check(name, variable.segments)
            if problem is not None:
                line, column = position(source, variable.span.index)
                return Problem(problem, line, column)
    return None


def _check(name: str, segments: list[Any]) -> str | None:
    if name not in _FIELDS:
        known = ", ".join(sorted(k for k in _FIELDS if not k.endswith("loop")))
        return f"There is no variable '{name}' (the variables are {known})."
    fields = _FIELDS[name]
    if fields is None or len(segments) < 2 or not isinstance(segments[1], str):
        return None
    if segments[1] in ("size", "first", "last"):
        return None
    if segments[1] not in fields:
        if not fields:
            return f"'{name}' is a value and has no fields."
        return f"'{name}' has no field '{segments[1]}'."
    return None


#: Views loaded for one batch of messages: (kind, store, id) → view (None: not found).
Cache = dict[tuple[str, int, Any], Any]


@dataclass(frozen=True, slots=True)
class Records:
    """What a message names, loaded for its render."""

    store: Store
    contact: ContactRow | None
    context: dict[str, Any]


def build(
    session: Session,
    records: Records,
    contact_view: Contact | None,
    cache: Cache | None = None,
) -> dict[str, Any]:
    """The variables of one message (``unsubscribe_url`` is added by the sender). ``cache``
    keeps the event, order and cart views across the messages of one batch (a campaign's
    messages, or a flow's, often share them); they are never changed in place."""
    store_id = records.store.id
    context = records.context
    cache = {} if cache is None else cache
    variables: dict[str, Any] = {
        "store": {"id": store_id, "name": records.store.name},
        "contact": contact_view.model_dump(mode="json") if contact_view else {},
        "data": context.get("data") or {},
    }
    for name, key, load in (
        ("event", "event_id", _event),
        ("order", "order_id", _order),
        ("cart", "cart_id", _cart),
        ("member", "member_id", _member),
    ):
        if key not in context:
            continue
        cache_key = (name, store_id, context[key])
        if cache_key not in cache:
            cache[cache_key] = load(session, store_id, context[key])
        if cache[cache_key] is not None:
            variables[name] = cache[cache_key]
    if "order" in variables and "order_status" in context:
        variables["order"] = {**variables["order"], "status": context["order_status"]}
    if "reset_expires_at" in context:
        variables["reset_expires_at"] = context["reset_expires_at"]
    return variables


def preload(session: Session, wanted: Iterable[tuple[int, dict[str, Any]]], cache: Cache) -> None:
    """Load the events, orders and carts a batch of messages names into ``cache``, a few
    queries for the whole batch (``wanted``: each message's store and context) instead of
    some per message; :func:`build` then finds them there. Not found is cached as None."""
    ids: dict[tuple[str, int], set[Any]] = {}
    for store_id, context in wanted:
        for name, key in (("event", "event_id"), ("order", "order_id"), ("cart", "cart_id")):
            raw = context.get(key)
            if raw is not None and (name, store_id, raw) not in cache:
                ids.setdefault((name, store_id), set()).add(raw)
    for (name, store_id), raws in ids.items():
        if name == "event":
            loaded = _events(session, store_id, raws)
        elif name == "order":
            loaded = _orders(session, store_id, raws)
        else:
            loaded = _carts(session, store_id, raws)
        for raw in raws:
            cache[(name, store_id, raw)] = loaded.get(raw)


def _events(session: Session, store_id: int, raws: set[Any]) -> dict[Any, dict[str, Any]]:
    by_id: dict[uuid.UUID, Any] = {}
    for raw in raws:
        try:
            by_id[uuid.UUID(str(raw))] = raw
        except ValueError:
            continue
    if not by_id:
        return {}
    rows = session.scalars(
        select(EventRow).where(EventRow.store_id == store_id, EventRow.id.in_(by_id))
    )
    return {by_id[row.id]: _event_values(row) for row in rows}


def _int_ids(raws: set[Any]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for raw in raws:
        try:
            number = int(raw)
        except (TypeError, ValueError):
            continue
        if is_id(number):
            found[number] = raw
    return found


def _orders(session: Session, store_id: int, raws: set[Any]) -> dict[Any, dict[str, Any]]:
    by_id = _int_ids(raws)
    if not by_id:
        return {}
    rows = list(session.scalars(orders.orders(store_id).where(OrderRow.id.in_(by_id))))
    return {by_id[view.id]: _with_lines(view) for view in order_views.order_views(session, rows)}


def _carts(session: Session, store_id: int, raws: set[Any]) -> dict[Any, dict[str, Any]]:
    by_id = _int_ids(raws)
    if not by_id:
        return {}
    rows = session.scalars(orders.carts(store_id).where(CartRow.id.in_(by_id)))
    return {by_id[row.id]: _with_lines(order_views.cart_view(row)) for row in rows}


def contact_views(session: Session, rows: list[ContactRow]) -> dict[int, Contact]:
    return {view.id: view for view in contacts.views(session, rows)}


def _event(session: Session, store_id: int, raw: Any) -> dict[str, Any] | None:
    try:
        event_id = uuid.UUID(str(raw))
    except ValueError:
        return None
    event = events.get_event(session, store_id, event_id)
    return None if event is None else _event_values(event)


def _event_values(event: EventRow) -> dict[str, Any]:
    view = event_view(event).model_dump(mode="json")
    view["$extra"] = view["extra"]
    return view


def _order(session: Session, store_id: int, raw: Any) -> dict[str, Any] | None:
    order = orders.get_order(session, store_id, int(raw))
    return None if order is None else _with_lines(order_views.order_view(session, order))


def _cart(session: Session, store_id: int, raw: Any) -> dict[str, Any] | None:
    cart = orders.get_cart(session, store_id, int(raw))
    return None if cart is None else _with_lines(order_views.cart_view(cart))


def _member(session: Session, store_id: int, raw: Any) -> dict[str, Any] | None:
    member = session.get(Member, int(raw))
    if member is None or member.store_id != store_id:
        return None
    return {"id": member.id, "name": member.name, "email": member.email}


def _with_lines(view: Order | Cart) -> dict[str, Any]:
    data = view.model_dump(mode="json")
    data["lines"] = data["items"]
    return data


SAMPLE: dict[str, Any] = {
    "contact": {
        "id": 123,
        "name": "Ann Example",
        "email": "ann@example.com",
        "phone": "+14155550100",
        "firstName": "Ann",
        "lastName": "Example",
        "city": "Lisbon",
        "country": "Portugal",
        "subscribed": True,
        "customFields": {"size": "M"},
        "tags": ["vip"],
    },
    "event": {
        "name": "Viewed Product",
        "properties": {"sku": "TSH-1", "price": 25.0},
        "extra": {"images": ["https://shop.example.com/tsh-1.jpg"]},
        "$extra": {"images": ["https://shop.example.com/tsh-1.jpg"]},
        "value": 25.0,
        "currency": "EUR",
    },
    "order": {
        "id": 1001,
        "invoiceNo": 1001,
        "customerName": "Ann Example",
        "status": "completed",
        "total": 54.0,
        "subTotal": 50.0,
        "shippingAmount": 4.0,
        "currency": "EUR",
        "lines": [
            {"name": "T-shirt", "quantity": 2, "total": 50.0, "type": "physical", "url": None},
            {
                "name": "E-book",
                "quantity": 1,
                "total": 0.0,
                "type": "digital",
                "url": "https://shop.example.com/download/e-book",
            },
        ],
    },
    "cart": {
        "id": 55,
        "total": 25.0,
        "currency": "EUR",
        "url": "https://shop.example.com/cart",
        "lines": [{"name": "T-shirt", "quantity": 1, "price": 25.0, "total": 25.0}],
    },
    "member": {"id": 9, "name": "Ann Example", "email": "ann@example.com"},
    "reset_url": "https://cartwheel.example.com/v1/password-reset?token=sample",
    "reset_expires_at": "2026-12-02T12:00:00Z",
    "data": {},
}
