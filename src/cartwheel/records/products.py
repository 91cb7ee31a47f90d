"""Product events: ``created`` / ``updated`` (and any other action but the two below)
upsert the product by the store's product id; ``deleted`` deletes it; ``viewed`` is a
customer's view and changes nothing. An event older than the last one applied to the
product is stale and changes nothing either."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cartwheel.catalog import repository as catalog
from cartwheel.catalog import service as catalog_service
from cartwheel.catalog.schemas import PRODUCT_TYPES, ProductVariant
from cartwheel.models import Event, Product
from cartwheel.orders import repository as orders
from cartwheel.records.values import entity_id, entity_of, is_stale, number, strings, text


def handle(session: Session, event: Event) -> None:
    if event.action == "viewed":
        return
    external_id = entity_id(event)
    if external_id is None:
        return
    product = catalog.product_by_external_id(session, event.store_id, external_id)
    if product is not None and is_stale(event, product.synced_at):
        return
    if event.action == "deleted":
        if product is not None and product.deleted_at is None:
            catalog_service.remove_product(session, product, synced_at=event.occurred_at)
        return
    entity = entity_of(event)
    category_ids = (
        catalog_service.categories_named(session, event.store_id, strings(entity["categories"]))
        if isinstance(entity.get("categories"), list)
        else None
    )
    saved = catalog_service.save_product(
        session,
        event.store_id,
        product,
        _values(entity, product, external_id),
        category_ids,
        external_id=external_id,
        synced_at=event.occurred_at,
        emit=not event.silent,
    )
    if product is None:
        # Order lines that arrived before the product now point at it.
        orders.link_items_to_product(session, event.store_id, external_id, saved.id)


def _values(entity: dict[str, Any], product: Product | None, external_id: str) -> dict[str, Any]:
    """Product columns from a ``ProductEntity``: only what the entity carries (a new
    product gets a title and type even when it carries neither)."""
    values: dict[str, Any] = {}
    name = text(entity.get("name"), 500)
    if name:
        values["title"] = name
    elif product is None:
        values["title"] = external_id
    if isinstance(entity.get("description"), str):
        values["description"] = entity["description"]
    url = text(entity.get("url"), 1000)
    if url:
        values["url"] = url
    image = text(entity.get("image_url"), 2000)
    if image:
        others = [i for i in (product.images if product else []) if i != image]
        values["images"] = [image, *others]
    kind = (text(entity.get("type")) or "").lower()
    if kind in PRODUCT_TYPES:
        values["type"] = kind
    elif product is None:
        values["type"] = "physical"
    price = number(entity.get("price"))
    sku = text(entity.get("sku"), 200)
    if isinstance(entity.get("variants"), list):
        values["variants"] = [_variant(v, price) for v in entity["variants"] if isinstance(v, dict)]
    elif price is not None or sku:
        # A product without variants is sold as one variant carrying its price and SKU.
        current = product.variants if product else []
        if len(current) <= 1:
            variant = dict(current[0]) if current else ProductVariant().model_dump()
            if price is not None:
                variant["price"] = price
            if sku:
                variant["sku"] = sku
            values["variants"] = [variant]
    return values


def _variant(entity: dict[str, Any], product_price: float | None) -> dict[str, Any]:
    options = strings(entity.get("options"))
    name = text(entity.get("name"))
    price = number(entity.get("price"))
    return ProductVariant(
        options=options or ([name] if name else []),
        price=price if price is not None else product_price or 0,
        sku=text(entity.get("sku"), 200) or "",
    ).model_dump()
