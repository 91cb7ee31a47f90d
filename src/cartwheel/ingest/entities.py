"""Canonical record payloads carried by lifecycle events (``CanonicalEvent.entity``).

A wire adapter maps its vendor's order/product/cart/… fields to these shapes; the record
processors (orders, products, carts, subscriptions, contacts) read only these shapes, never a
vendor's. Every key is optional (``total=False``): adapters set what the request carried,
and processors update only what is present. Ids are the store's own ids, as strings.
"""

from __future__ import annotations

from typing import Any, TypedDict


class AddressEntity(TypedDict, total=False):
    first_name: str
    last_name: str
    company: str
    address1: str
    address2: str
    city: str
    state: str
    state_code: str
    zip: str
    country: str
    country_code: str
    phone: str
    email: str


class LineItemEntity(TypedDict, total=False):
    product_id: str
    variant_id: str
    name: str
    variant_name: str
    sku: str
    url: str
    image_url: str
    brand: str
    vendor: str
    categories: list[str]
    price: float
    quantity: float
    total: float
    discounts: float
    taxes: float
    fees: float
    shipping: float
    weight: float


class OrderEntity(TypedDict, total=False):
    id: str  # the store's order id, e.g. "order_123456"
    number: str
    status: str  # lower-case: pending, processing, completed, canceled, refunded, ...
    payment_status: str
    fulfillment_status: str
    currency: str
    total: float
    subtotal: float
    total_tax: float
    total_discounts: float
    total_shipping: float
    discount_codes: list[dict[str, Any]]
    items: list[LineItemEntity]
    billing_address: AddressEntity
    shipping_address: AddressEntity
    shipping_method: str
    payment_method: str
    note: str
    url: str
    tags: list[str]
    tracking: dict[str, Any]
    created_at: str  # ISO-8601
    modified_at: str


class ProductVariantEntity(TypedDict, total=False):
    id: str
    sku: str
    price: float
    barcode: str
    options: list[str]
    name: str


class ProductEntity(TypedDict, total=False):
    id: str
    name: str
    description: str
    url: str
    image_url: str
    price: float
    currency: str
    sku: str
    barcode: str
    categories: list[str]
    tags: list[str]
    vendor: str
    brand: str
    type: str
    variants: list[ProductVariantEntity]
    created_at: str
    modified_at: str


class CartEntity(TypedDict, total=False):
    id: str
    total: float
    total_products: int
    currency: str
    url: str
    items: list[LineItemEntity]
    modified_at: str


class SubscriptionEntity(TypedDict, total=False):
    id: str
    status: str
    currency: str
    url: str
    plan: str
    plan_id: str
    amount: float
    interval: str
    interval_count: int
    items: list[LineItemEntity]
    next_payment_at: str
    created_at: str
    modified_at: str


class CustomerEntity(TypedDict, total=False):
    """A customer or user record as the store's platform knows it."""

    id: str
    username: str
    role: str
    status: str
    url: str
    avatar_url: str
    purchase_count: int
    purchase_value: float
    created_at: str
    modified_at: str
    last_login: str


#: ``CanonicalEvent.category`` values that carry an entity, and its shape.
ENTITY_CATEGORIES = ("order", "product", "cart", "subscription", "customer", "user")
