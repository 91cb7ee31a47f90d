"""Catalog operations. The store data API and the platform's product events both write
products through :func:`save_product`, so both emit the same ``product_created`` /
``product_updated`` messages, with the product in its API shape as payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cartwheel import outbox
from cartwheel.catalog import repository
from cartwheel.catalog.schemas import Category as CategoryView
from cartwheel.catalog.schemas import CategoryCreate, CategoryRef, ProductCreate, ProductUpdate
from cartwheel.catalog.schemas import Product as ProductView
from cartwheel.catalog.slugs import slugify, unique_slug
from cartwheel.exceptions import Conflict, NotFound, ValidationFailed
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.kit.requests import is_id
from cartwheel.models import Category, Product
from cartwheel.models.base import utcnow

PRODUCT_CREATED = "product_created"
PRODUCT_UPDATED = "product_updated"

_PRODUCT_NOT_FOUND = "Product not found."
_URL_TAKEN = "A product with this URL already exists."

# -- views --------------------------------------------------------------------------------


def category_view(category: Category) -> CategoryView:
    return CategoryView(
        id=category.id,
        name=category.name,
        url=category.url,
        parentCategory=category.parent_id or 0,
    )


def product_views(session: Session, products: list[Product]) -> list[ProductView]:
    categories = repository.categories_of(session, [p.id for p in products])
    return [_product_view(p, categories.get(p.id, [])) for p in products]


def product_view(session: Session, product: Product) -> ProductView:
    return product_views(session, [product])[0]


def _product_view(product: Product, categories: list[Category]) -> ProductView:
    return ProductView.model_validate(
        {
            "id": product.id,
            "type": product.type,
            "title": product.title,
            "description": product.description,
            "url": product.url,
            "hidden": product.hidden,
            "images": product.images,
            "categories": [category_view(c) for c in categories],
            "options": product.options,
            "variants": product.variants,
            "subscription": product.subscription,
            "file": product.file,
        }
    )


# -- categories ---------------------------------------------------------------------------


def list_categories(session: Session, store_id: int, parent: int | None) -> list[CategoryView]:
    query = repository.categories(store_id)
    if parent is not None and parent != 0 and not is_id(parent):
        return []
    if parent is not None:
        # 0 names the top level, as parentCategory does.
        query = query.where(
            Category.parent_id.is_(None) if parent == 0 else Category.parent_id == parent
        )
    return [category_view(c) for c in session.scalars(query)]


def create_category(session: Session, store_id: int, body: CategoryCreate) -> CategoryView:
    parent = _parent(session, store_id, body.parentCategory, "parentCategory")
    url = body.url or None
    if url is not None and repository.category_by(session, store_id, url=url) is not None:
        raise Conflict("A category with this URL already exists.")
    return category_view(_new_category(session, store_id, body.name, url, parent))


def resolve_categories(session: Session, store_id: int, refs: list[CategoryRef]) -> list[int]:
    """The ids of the categories a product body names, creating those that are new.

    An ``id`` is used when it names a category of this store; otherwise the category is
    found by ``url`` or ``name`` (so the document's example works in any store)."""
    ids: list[int] = []
    for index, ref in enumerate(refs):
        found = repository.get_category(session, store_id, ref.id) if ref.id else None
        if found is None and ref.id and not (ref.url or ref.name):
            raise ValidationFailed(
                {f"categories.{index}.id": [f"The category {ref.id} does not exist."]}
            )
        if found is None and ref.url:
            found = repository.category_by(session, store_id, url=ref.url)
        if found is None and ref.name and not ref.url:
            found = repository.category_by(session, store_id, name=ref.name)
        if found is None:
            parent = _parent(
                session, store_id, ref.parentCategory, f"categories.{index}.parentCategory"
            )
            found = _new_category(session, store_id, ref.name or ref.url or "", ref.url, parent)
        ids.append(found.id)
    return ids


def categories_named(session: Session, store_id: int, names: list[str]) -> list[int]:
    """Top-level categories by name (case-insensitive), created when missing."""
    ids: list[int] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        found = repository.category_by(session, store_id, name=name)
        if found is None:
            found = _new_category(session, store_id, name, None, None)
        ids.append(found.id)
    return ids


def _parent(session: Session, store_id: int, parent_id: int | None, field: str) -> int | None:
    if not parent_id:
        return None
    if repository.get_category(session, store_id, parent_id) is None:
        raise ValidationFailed({field: [f"The parent category {parent_id} does not exist."]})
    return parent_id


def _new_category(
    session: Session, store_id: int, name: str, url: str | None, parent_id: int | None
) -> Category:
    if url is None:
        base = slugify(name, fallback="category")
        url = unique_slug(base, repository.category_urls_like(session, store_id, base))
    now = utcnow()
    category = Category(
        store_id=store_id, name=name, url=url, parent_id=parent_id, created_at=now, updated_at=now
    )
    session.add(category)
    session.flush()
    return category


# -- products -----------------------------------------------------------------------------


def list_products(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    category_id: int | None = None,
    title: str | None = None,
) -> tuple[list[ProductView], int]:
    query = repository.products(store_id)
    if category_id is not None:
        query = repository.in_category_tree(query, store_id, category_id)
    if title:
        query = repository.title_contains(query, title)
    rows, total = paginate(session, query.order_by(Product.id), page)
    return product_views(session, rows), total


def get_product(session: Session, store_id: int, product_id: int) -> ProductView:
    return product_view(session, _product(session, store_id, product_id))


def create_product(
    session: Session, store_id: int, body: ProductCreate, *, update_existing_by_url: bool
) -> tuple[ProductView, bool]:
    """Create a product; returns it and whether it is new. With ``update_existing_by_url``
    a product with the same URL is updated instead; without, that URL is a conflict."""
    if body.url:
        existing = repository.product_by_url(session, store_id, body.url)
        if existing is not None:
            if not update_existing_by_url:
                raise Conflict(_URL_TAKEN)
            return _update(session, store_id, existing, body), False
    values: dict[str, Any] = {
        "type": body.type,
        "title": body.title,
        "description": body.description or "",
        "url": body.url or None,
        "hidden": bool(body.hidden),
        "images": list(body.images or []),
        "options": [o.model_dump() for o in body.options or []],
        "variants": [v.model_dump() for v in body.variants or []],
        "subscription": body.subscription.model_dump() if body.subscription else None,
        "file": body.file or None,
    }
    category_ids = resolve_categories(session, store_id, body.categories or [])
    product = save_product(session, store_id, None, values, category_ids, emit=True)
    return product_view(session, product), True


def update_product(
    session: Session, store_id: int, product_id: int, body: ProductUpdate
) -> ProductView:
    return _update(session, store_id, _product(session, store_id, product_id), body)


def _update(
    session: Session, store_id: int, product: Product, body: ProductCreate | ProductUpdate
) -> ProductView:
    # "Only non-empty fields or provided variants are set."
    values: dict[str, Any] = {"type": body.type, "title": body.title}
    if body.description:
        values["description"] = body.description
    if body.url:
        if repository.product_by_url(session, store_id, body.url, exclude_id=product.id):
            raise Conflict(_URL_TAKEN)
        values["url"] = body.url
    if body.hidden is not None:
        values["hidden"] = body.hidden
    if body.images:
        values["images"] = list(body.images)
    if body.options:
        values["options"] = [o.model_dump() for o in body.options]
    if body.variants is not None:
        values["variants"] = [v.model_dump() for v in body.variants]
    if body.subscription is not None:
        values["subscription"] = body.subscription.model_dump()
    if body.file:
        values["file"] = body.file
    category_ids = (
        resolve_categories(session, store_id, body.categories) if body.categories else None
    )
    save_product(session, store_id, product, values, category_ids, emit=True)
    return product_view(session, product)


def delete_product(session: Session, store_id: int, product_id: int) -> None:
    remove_product(session, _product(session, store_id, product_id))


def remove_product(
    session: Session, product: Product, *, synced_at: datetime | None = None
) -> None:
    """Delete a product: it disappears from the API and its URL is free again; the row stays
    as a tombstone so a late event about it is recognized as stale."""
    product.deleted_at = utcnow()
    if synced_at is not None:
        product.synced_at = synced_at
    session.flush()


def save_product(
    session: Session,
    store_id: int,
    product: Product | None,
    values: dict[str, Any],
    category_ids: list[int] | None,
    *,
    external_id: str | None = None,
    synced_at: datetime | None = None,
    emit: bool,
) -> Product:
    """Create (``product`` None) or update a product with ``values`` (column → value) and,
    unless None, its categories; emit ``product_created``, or ``product_updated`` when
    something visible changed (a replayed event changes nothing and emits nothing).

    Saving a deleted product (a newer platform event about it) brings it back, as new."""
    before = None
    if product is not None and product.deleted_at is None:
        before = product_view(session, product).model_dump(mode="json")
    now = utcnow()
    if product is None:
        product = Product(store_id=store_id, external_id=external_id, created_at=now)
        product.description = ""
    for column, value in values.items():
        setattr(product, column, value)
    product.deleted_at = None
    if synced_at is not None:
        product.synced_at = synced_at
    if not product.url:
        with session.no_autoflush:
            base = slugify(product.title or "", fallback="product")
            taken = repository.product_urls_like(session, store_id, base)
        product.url = unique_slug(base, taken)
    session.add(product)
    session.flush()
    if category_ids is not None:
        repository.set_categories(session, product.id, category_ids)
    after = product_view(session, product).model_dump(mode="json")
    if before is None:
        product.updated_at = now
        if emit:
            outbox.emit(session, store_id, PRODUCT_CREATED, after)
    elif after != before:
        product.updated_at = now
        if emit:
            outbox.emit(session, store_id, PRODUCT_UPDATED, after)
    return product


def _product(session: Session, store_id: int, product_id: int) -> Product:
    product = repository.get_product(session, store_id, product_id)
    if product is None:
        raise NotFound(_PRODUCT_NOT_FOUND)
    return product
