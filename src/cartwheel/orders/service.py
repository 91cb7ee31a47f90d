"""Order operations, and reads of carts and customer subscriptions.

The store data API and the platform's order events both write orders through
:func:`save_order`, so both emit the same ``order_created`` / ``order_updated`` messages,
with the order in its API shape as payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from cartwheel import outbox
from cartwheel.catalog import repository as catalog
from cartwheel.exceptions import NotFound
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.kit.requests import is_id
from cartwheel.models import Cart, CustomerSubscription, Order, OrderItem
from cartwheel.models.base import utcnow
from cartwheel.orders import repository
from cartwheel.orders.schemas import Cart as CartView
from cartwheel.orders.schemas import CustomerSubscription as SubscriptionView
from cartwheel.orders.schemas import LineItem, OrderAddress, OrderUpdate
from cartwheel.orders.schemas import Order as OrderView
from cartwheel.orders.schemas import OrderItem as OrderItemView

ORDER_CREATED = "order_created"
ORDER_UPDATED = "order_updated"
#: Asks for the order status email (``notifyCustomer``): ``{"order_id": …, "status": …}``.
ORDER_NOTIFY_CUSTOMER = "order_notify_customer"

# -- views --------------------------------------------------------------------------------


def order_views(session: Session, orders: list[Order]) -> list[OrderView]:
    items = repository.items_of(session, [o.id for o in orders])
    return [_order_view(o, items.get(o.id, [])) for o in orders]


def order_view(session: Session, order: Order) -> OrderView:
    return order_views(session, [order])[0]


def _order_view(order: Order, items: list[OrderItem]) -> OrderView:
    return OrderView.model_validate(
        {
            "id": order.id,
            "invoiceNo": order.invoice_no,
            "created": _seconds(order.created_at),
            "customerName": order.customer_name,
            "customerEmail": order.customer_email,
            "contactId": order.contact_id or 0,
            "memberId": order.member_id or 0,
            "shippingAddress": _address(order.shipping_address),
            "billingAddress": _address(order.billing_address),
            "shippingRequired": order.shipping_required,
            "weight": order.weight,
            "weightUnit": order.weight_unit,
            "subTotal": order.sub_total,
            "total": order.total,
            "discountCode": order.discount_code,
            "discountType": order.discount_type,
            "discountAmount": order.discount_amount,
            "shippingName": order.shipping_name,
            "shippingAmount": order.shipping_amount,
            "paid": order.paid,
            "paymentMethod": order.payment_method,
            "transactionId": order.transaction_id,
            "status": order.status,
            "taxes": [
                {
                    "name": tax.get("name") or "Tax",
                    "total": tax.get("total") or 0,
                    "applyToShipping": bool(tax.get("applyToShipping")),
                    "rate": tax.get("rate"),
                    "type": tax.get("type"),
                    "appliedToItems": tax.get("appliedToItems") or [],
                }
                for tax in order.taxes
            ],
            "items": [_item_view(item) for item in items],
            "tags": order.tags,
            "additionalFields": order.additional_fields,
            "notes": order.notes,
        }
    )


def _item_view(item: OrderItem) -> OrderItemView:
    return OrderItemView.model_validate(
        {
            "id": item.id,
            "name": item.name,
            "url": item.url,
            "productId": item.product_id or 0,
            "type": item.type,
            "sku": item.sku,
            "quantity": item.quantity,
            "total": item.total,
            "weight": item.weight,
            "width": item.width,
            "height": item.height,
            "length": item.length,
            "shippingRequired": item.shipping_required,
            "variation": item.variation,
            "additions": item.additions,
        }
    )


def _address(value: dict[str, Any] | None) -> OrderAddress | None:
    return OrderAddress.model_validate(value) if value else None


def _seconds(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


# -- orders -------------------------------------------------------------------------------


def list_orders(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    created_min: datetime | None = None,
    created_max: datetime | None = None,
    contact_id: int | None = None,
    newest_first: bool = False,
) -> tuple[list[OrderView], int]:
    if contact_id is not None and not is_id(contact_id):
        return [], 0
    query = repository.orders(store_id)
    if contact_id is not None:
        query = query.where(Order.contact_id == contact_id)
    if created_min is not None:
        query = query.where(Order.created_at >= created_min)
    if created_max is not None:
        query = query.where(Order.created_at <= created_max)
    order = Order.id.desc() if newest_first else Order.id
    rows, total = paginate(session, query.order_by(order), page)
    return order_views(session, rows), total


def get_order(session: Session, store_id: int, order_id: int) -> OrderView:
    return order_view(session, _order(session, store_id, order_id))


def update_order(session: Session, store_id: int, order_id: int, body: OrderUpdate) -> OrderView:
    """Set the non-empty fields of ``body``. ``notifyCustomer`` asks for the order status
    email (``order_notify_customer``, sent by cartwheel.messages after commit)."""
    order = _order(session, store_id, order_id)
    now = utcnow()
    values: dict[str, Any] = {}
    for column, value in (
        ("customer_name", body.customerName),
        ("customer_email", body.customerEmail),
        ("payment_method", body.paymentMethod),
        ("transaction_id", body.transactionId),
    ):
        if value:
            values[column] = value
    for column, address in (
        ("billing_address", body.billingAddress),
        ("shipping_address", body.shippingAddress),
    ):
        if address is not None:
            values[column] = _merge(getattr(order, column), address.model_dump())
    if body.paid is not None:
        values["paid"] = body.paid
        if body.paid and order.paid_at is None:
            values["paid_at"] = now
    if body.status is not None:
        # Statuses are set in upper case and stored (and shown) in lower case.
        values["status"] = body.status.lower()
        if body.status == "COMPLETED" and order.completed_at is None:
            values["completed_at"] = now
    if body.fulfillment is not None:
        values["fulfillment"] = _merge(order.fulfillment, body.fulfillment.model_dump())
    save_order(session, store_id, order, values, None, emit=True)
    if body.notifyCustomer:
        outbox.emit(
            session,
            store_id,
            ORDER_NOTIFY_CUSTOMER,
            {"order_id": order.id, "status": order.status},
        )
    return order_view(session, order)


def save_order(
    session: Session,
    store_id: int,
    order: Order | None,
    values: dict[str, Any],
    items: list[dict[str, Any]] | None,
    *,
    external_id: str | None = None,
    emit: bool,
) -> Order:
    """Create (``order`` None) or update an order with ``values`` (column → value) and,
    unless None, its lines (OrderItem column → value each); emit ``order_created``, or
    ``order_updated`` when something changed (a replayed event changes nothing)."""
    before = None if order is None else _snapshot(session, order)
    now = utcnow()
    if order is None:
        order = Order(store_id=store_id, external_id=external_id, created_at=now)
        order.invoice_no = repository.next_invoice_no(session, store_id)
        session.add(order)
    for column, value in values.items():
        setattr(order, column, value)
    session.flush()
    if items is not None:
        _set_items(session, order, items)
    after = _snapshot(session, order)
    if before is None or after != before:
        order.updated_at = now
        if emit:
            topic = ORDER_CREATED if before is None else ORDER_UPDATED
            outbox.emit(session, store_id, topic, after["order"])
    return order


def _snapshot(session: Session, order: Order) -> dict[str, Any]:
    # Fulfillment is not part of the order's API shape, but setting it is still a change.
    return {
        "order": order_view(session, order).model_dump(mode="json"),
        "fulfillment": order.fulfillment,
    }


def _set_items(session: Session, order: Order, items: list[dict[str, Any]]) -> None:
    """Make the order's lines ``items``, updating lines in place by position so their ids
    stay stable when the same order arrives again."""
    external_ids = [i["product_external_id"] for i in items if i.get("product_external_id")]
    products = catalog.products_by_external_ids(session, order.store_id, external_ids)
    existing = repository.items_of(session, [order.id]).get(order.id, [])
    lines: list[OrderItem] = []
    for position, values in enumerate(items):
        product = products.get(values.get("product_external_id") or "")
        row = dict(values)
        row["product_id"] = product.id if product is not None else None
        if product is not None and "type" not in values:
            row["type"] = product.type
            row["shipping_required"] = product.type == "physical"
        if position < len(existing):
            item = existing[position]
        else:
            item = OrderItem(store_id=order.store_id, order_id=order.id, position=position)
            session.add(item)
        for column, value in row.items():
            setattr(item, column, value)
        lines.append(item)
    stale = [item.id for item in existing[len(items) :]]
    if stale:
        session.execute(delete(OrderItem).where(OrderItem.id.in_(stale)))
    session.flush()
    order.shipping_required = any(line.shipping_required for line in lines)
    order.weight = sum(line.weight * line.quantity for line in lines)


def _merge(current: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current or {})
    merged.update({key: value for key, value in given.items() if value not in (None, "")})
    return merged


def _order(session: Session, store_id: int, order_id: int) -> Order:
    order = repository.get_order(session, store_id, order_id)
    if order is None:
        raise NotFound("Order not found.")
    return order


# -- carts and customer subscriptions -------------------------------------------------------


def list_carts(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    contact_id: int | None = None,
    status: str | None = None,
) -> tuple[list[CartView], int]:
    if contact_id is not None and not is_id(contact_id):
        return [], 0
    query = repository.carts(store_id)
    if contact_id is not None:
        query = query.where(Cart.contact_id == contact_id)
    if status is not None:
        query = query.where(Cart.status == status)
    rows, total = paginate(session, query.order_by(Cart.id), page)
    return [cart_view(c) for c in rows], total


def get_cart(session: Session, store_id: int, cart_id: int) -> CartView:
    cart = repository.get_cart(session, store_id, cart_id)
    if cart is None:
        raise NotFound("Cart not found.")
    return cart_view(cart)


def cart_view(cart: Cart) -> CartView:
    return CartView.model_validate(
        {
            "id": cart.id,
            "externalId": cart.external_id,
            "contactId": cart.contact_id,
            "status": cart.status,
            "items": [_line_item(i) for i in cart.items],
            "total": cart.total,
            "totalProducts": cart.total_products,
            "currency": cart.currency,
            "url": cart.url,
            "orderId": cart.order_id,
            "abandonedOn": _seconds(cart.abandoned_at),
            "convertedOn": _seconds(cart.converted_at),
            "createdOn": _seconds(cart.created_at) or 0,
            "updatedOn": _seconds(cart.updated_at) or 0,
        }
    )


def list_subscriptions(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    contact_id: int | None = None,
    status: str | None = None,
) -> tuple[list[SubscriptionView], int]:
    if contact_id is not None and not is_id(contact_id):
        return [], 0
    query = repository.subscriptions(store_id)
    if contact_id is not None:
        query = query.where(CustomerSubscription.contact_id == contact_id)
    if status is not None:
        query = query.where(CustomerSubscription.status == status)
    rows, total = paginate(session, query.order_by(CustomerSubscription.id), page)
    return [subscription_view(s) for s in rows], total


def get_subscription(session: Session, store_id: int, subscription_id: int) -> SubscriptionView:
    subscription = repository.get_subscription(session, store_id, subscription_id)
    if subscription is None:
        raise NotFound("Subscription not found.")
    return subscription_view(subscription)


def subscription_view(subscription: CustomerSubscription) -> SubscriptionView:
    return SubscriptionView(
        id=subscription.id,
        externalId=subscription.external_id,
        contactId=subscription.contact_id,
        status=subscription.status,
        currency=subscription.currency,
        url=subscription.url,
        plan=subscription.plan,
        planId=subscription.plan_id,
        amount=subscription.amount,
        interval=subscription.interval,
        intervalCount=subscription.interval_count,
        items=[_line_item(i) for i in subscription.items],
        nextPaymentOn=_seconds(subscription.next_payment_at),
        startedOn=_seconds(subscription.started_at),
        renewedOn=_seconds(subscription.renewed_at),
        cancelledOn=_seconds(subscription.cancelled_at),
        endedOn=_seconds(subscription.ended_at),
        createdOn=_seconds(subscription.created_at) or 0,
        updatedOn=_seconds(subscription.updated_at) or 0,
    )


def _line_item(item: dict[str, Any]) -> LineItem:
    """A stored canonical line item (``LineItemEntity``) in the API's casing."""
    return LineItem(
        productId=item.get("product_id"),
        variantId=item.get("variant_id"),
        name=item.get("name"),
        sku=item.get("sku"),
        url=item.get("url"),
        imageUrl=item.get("image_url"),
        price=item.get("price"),
        quantity=item.get("quantity"),
        total=item.get("total"),
    )
