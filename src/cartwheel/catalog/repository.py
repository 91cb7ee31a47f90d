"""Product and category queries, always scoped by store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from cartwheel.kit.requests import is_id
from cartwheel.models import Category, Product, ProductCategory

# -- categories ---------------------------------------------------------------------------


def categories(store_id: int) -> Select[Any]:
    return select(Category).where(Category.store_id == store_id).order_by(Category.id)


def get_category(session: Session, store_id: int, category_id: int) -> Category | None:
    if not is_id(category_id):
        return None
    return session.scalars(
        select(Category).where(Category.store_id == store_id, Category.id == category_id)
    ).one_or_none()


def category_by(
    session: Session, store_id: int, *, url: str | None = None, name: str | None = None
) -> Category | None:
    query = select(Category).where(Category.store_id == store_id)
    if url is not None:
        query = query.where(Category.url == url)
    if name is not None:
        query = query.where(func.lower(Category.name) == name.lower())
    return session.scalars(query.order_by(Category.id).limit(1)).one_or_none()


def category_urls_like(session: Session, store_id: int, base: str) -> set[str]:
    rows = session.scalars(
        select(Category.url).where(
            Category.store_id == store_id, Category.url.startswith(base, autoescape=True)
        )
    )
    return set(rows)


def subtree_ids(store_id: int, root_id: int) -> Select[Any]:
    """The ids of ``root_id`` and every category below it (a recursive query)."""
    tree = (
        select(Category.id)
        .where(Category.store_id == store_id, Category.id == root_id)
        .cte("category_tree", recursive=True)
    )
    tree = tree.union_all(
        select(Category.id).where(Category.store_id == store_id, Category.parent_id == tree.c.id)
    )
    return select(tree.c.id)


# -- products -----------------------------------------------------------------------------


def products(store_id: int) -> Select[Any]:
    """The store's products (deleted ones are tombstones, never shown)."""
    return select(Product).where(Product.store_id == store_id, Product.deleted_at.is_(None))


def in_category_tree(query: Select[Any], store_id: int, category_id: int) -> Select[Any]:
    if not is_id(category_id):
        return query.where(literal(False))
    members = select(ProductCategory.product_id).where(
        ProductCategory.category_id.in_(subtree_ids(store_id, category_id))
    )
    return query.where(Product.id.in_(members))


def title_contains(query: Select[Any], text: str) -> Select[Any]:
    return query.where(Product.title.icontains(text, autoescape=True))


def get_product(session: Session, store_id: int, product_id: int) -> Product | None:
    if not is_id(product_id):
        return None
    return session.scalars(products(store_id).where(Product.id == product_id)).one_or_none()


def product_by_url(
    session: Session, store_id: int, url: str, *, exclude_id: int | None = None
) -> Product | None:
    query = products(store_id).where(Product.url == url)
    if exclude_id is not None:
        query = query.where(Product.id != exclude_id)
    return session.scalars(query.order_by(Product.id).limit(1)).one_or_none()


def product_urls_like(session: Session, store_id: int, base: str) -> set[str]:
    rows = session.scalars(
        products(store_id)
        .with_only_columns(Product.url)
        .where(Product.url.startswith(base, autoescape=True))
    )
    return set(rows)


def product_by_external_id(session: Session, store_id: int, external_id: str) -> Product | None:
    """The product the platform calls ``external_id``, deleted (a tombstone) or not."""
    return session.scalars(
        select(Product).where(Product.store_id == store_id, Product.external_id == external_id)
    ).one_or_none()


def products_by_external_ids(
    session: Session, store_id: int, external_ids: Iterable[str]
) -> dict[str, Product]:
    wanted = set(external_ids)
    if not wanted:
        return {}
    rows = session.scalars(products(store_id).where(Product.external_id.in_(wanted)))
    return {p.external_id: p for p in rows if p.external_id is not None}


def categories_of(session: Session, product_ids: list[int]) -> dict[int, list[Category]]:
    """Each product's categories, in the order the product lists them."""
    if not product_ids:
        return {}
    rows = session.execute(
        select(ProductCategory.product_id, Category)
        .join(Category, Category.id == ProductCategory.category_id)
        .where(ProductCategory.product_id.in_(product_ids))
        .order_by(ProductCategory.product_id, ProductCategory.position)
    )
    out: dict[int, list[Category]] = {}
    for product_id, category in rows:
        out.setdefault(product_id, []).append(category)
    return out


def set_categories(session: Session, product_id: int, category_ids: list[int]) -> None:
    session.execute(delete(ProductCategory).where(ProductCategory.product_id == product_id))
    unique = list(dict.fromkeys(category_ids))
    if unique:
        session.execute(
            insert(ProductCategory),
            [
                {"product_id": product_id, "category_id": cid, "position": position}
                for position, cid in enumerate(unique)
            ],
        )
