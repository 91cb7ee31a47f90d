"""Order, cart and customer subscription queries, always scoped by store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from cartwheel.kit.requests import is_id
from cartwheel.models import Cart, CustomerSubscription, Order, OrderItem

# -- orders -------------------------------------------------------------------------------


def orders(store_id: int) -> Select[Any]:
    return select(Order).where(Order.store_id == store_id)


def get_order(session: Session, store_id: int, order_id: int) -> Order | None:
    if not is_id(order_id):
        return None
    return session.scalars(orders(store_id).where(Order.id == order_id)).one_or_none()


def order_by_external_id(session: Session, store_id: int, external_id: str) -> Order | None:
    return session.scalars(orders(store_id).where(Order.external_id == external_id)).one_or_none()


def next_invoice_no(session: Session, store_id: int) -> int:
    highest = session.scalar(select(func.max(Order.invoice_no)).where(Order.store_id == store_id))
    return (highest or 0) + 1


def items_of(session: Session, order_ids: Sequence[int]) -> dict[int, list[OrderItem]]:
    if not order_ids:
        return {}
    rows = session.scalars(
        select(OrderItem)
        .where(OrderItem.order_id.in_(order_ids))
        .order_by(OrderItem.order_id, OrderItem.position)
    )
    out: dict[int, list[OrderItem]] = {}
    for item in rows:
        out.setdefault(item.order_id, []).append(item)
    return out


def link_items_to_product(
    session: Session, store_id: int, external_id: str, product_id: int
) -> None:
    """Point order lines that name the store's product ``external_id`` at the product."""
    session.execute(
        update(OrderItem)
        .where(
            OrderItem.store_id == store_id,
            OrderItem.product_external_id == external_id,
            OrderItem.product_id.is_(None),
        )
        .values(product_id=product_id)
    )


# -- carts --------------------------------------------------------------------------------


def carts(store_id: int) -> Select[Any]:
    return select(Cart).where(Cart.store_id == store_id)


def get_cart(session: Session, store_id: int, cart_id: int) -> Cart | None:
    if not is_id(cart_id):
        return None
    return session.scalars(carts(store_id).where(Cart.id == cart_id)).one_or_none()


def cart_by_external_id(session: Session, store_id: int, external_id: str) -> Cart | None:
    return session.scalars(carts(store_id).where(Cart.external_id == external_id)).one_or_none()


def unconverted_carts(session: Session, store_id: int, contact_id: int) -> list[Cart]:
    """The contact's open and abandoned carts, newest first."""
    return list(
        session.scalars(
            carts(store_id)
            .where(Cart.contact_id == contact_id, Cart.status.in_(("open", "abandoned")))
            .order_by(Cart.updated_at.desc(), Cart.id.desc())
        )
    )


# -- customer subscriptions ---------------------------------------------------------------


def subscriptions(store_id: int) -> Select[Any]:
    return select(CustomerSubscription).where(CustomerSubscription.store_id == store_id)


def get_subscription(
    session: Session, store_id: int, subscription_id: int
) -> CustomerSubscription | None:
    if not is_id(subscription_id):
        return None
    return session.scalars(
        subscriptions(store_id).where(CustomerSubscription.id == subscription_id)
    ).one_or_none()


def subscription_by_external_id(
    session: Session, store_id: int, external_id: str
) -> CustomerSubscription | None:
    return session.scalars(
        subscriptions(store_id).where(CustomerSubscription.external_id == external_id)
    ).one_or_none()
