"""Products and categories of the store data API (secret key, scoped to the key's store)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Response, status

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.catalog import service
from cartwheel.catalog.schemas import (
    CATEGORY_EXAMPLE,
    PRODUCT_WRITE_EXAMPLE,
    Category,
    CategoryCreate,
    Product,
    ProductCreate,
    ProductUpdate,
)
from cartwheel.exceptions import BadRequest
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.requests import JsonObject, int_param, text_param, validate
from cartwheel.kit.session import ReadSession, WriteSession

router = native_router(prefix="/v1", responses=ERROR_RESPONSES)

ProductId = Annotated[int, Path(description="The id of the product.", examples=[111])]

_PRODUCT_BODY_EXAMPLES: dict[str, Any] = {
    "document": {"summary": "The document's example", "value": PRODUCT_WRITE_EXAMPLE}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "Another product already has this URL"}
}


@router.get("/products", response_model=Page[Product], tags=["products"])
def list_products(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    # Filters arrive as text and are parsed by hand: a bad one is a 400, like a bad limit.
    category_id: Annotated[
        str | None,
        Query(
            description="List only products in the specified category (includes all products "
            "in the subcategories, if any).",
            examples=["12"],
        ),
    ] = None,
    title: Annotated[
        str | None,
        Query(
            description="List only products containing the specified string in their title.",
            examples=["shirt"],
        ),
    ] = None,
) -> Page[Product]:
    """Get a paginated list of all products in your website. Optionally filter by category
    or product name."""
    items, total = service.list_products(
        session,
        store.store_id,
        page,
        category_id=int_param("category_id", category_id),
        title=text_param("title", title),
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/products",
    response_model=Product,
    status_code=status.HTTP_201_CREATED,
    tags=["products"],
    responses={200: {"model": Product, "description": "An existing product was updated"}}
    | _CONFLICT,
    openapi_extra=json_body(ProductCreate, examples=_PRODUCT_BODY_EXAMPLES),
)
def create_product(
    store: SecretKeyStore,
    session: WriteSession,
    response: Response,
    body: JsonObject,
    update_existing_product_by_url: Annotated[
        str | None,
        Query(
            description="If true and a product with the same URL exists, the existing product "
            "is updated instead.",
            examples=["true"],
        ),
    ] = None,
) -> Product:
    """Create a product. Set update_existing_product_by_url to true to find an existing
    product with the same URL and update it instead (answered with 200, not 201)."""
    product, created = service.create_product(
        session,
        store.store_id,
        validate(ProductCreate, body),
        update_existing_by_url=_flag(
            "update_existing_product_by_url", update_existing_product_by_url
        ),
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return product


@router.get("/products/{id}", response_model=Product, tags=["products"])
def get_product(id: ProductId, store: SecretKeyStore, session: ReadSession) -> Product:
    """Get a single product."""
    return service.get_product(session, store.store_id, id)


@router.put(
    "/products/{id}",
    response_model=Product,
    tags=["products"],
    responses=_CONFLICT,
    openapi_extra=json_body(ProductUpdate, examples=_PRODUCT_BODY_EXAMPLES),
)
def update_product(
    id: ProductId, store: SecretKeyStore, session: WriteSession, body: JsonObject
) -> Product:
    """Update a single product. Only non-empty fields or provided variants are set."""
    return service.update_product(session, store.store_id, id, validate(ProductUpdate, body))


@router.delete(
    "/products/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["products"],
)
def delete_product(id: ProductId, store: SecretKeyStore, session: WriteSession) -> Response:
    """Delete a single product."""
    service.delete_product(session, store.store_id, id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/categories", response_model=list[Category], tags=["categories"])
def list_categories(
    store: SecretKeyStore,
    session: ReadSession,
    parent: Annotated[
        str | None,
        Query(
            description="List only direct sub-categories of the provided parent "
            "(0 = top-level categories).",
            examples=["12"],
        ),
    ] = None,
) -> list[Category]:
    """Get a list of all categories in the store."""
    return service.list_categories(session, store.store_id, int_param("parent", parent))


@router.post(
    "/categories",
    response_model=Category,
    status_code=status.HTTP_201_CREATED,
    tags=["categories"],
    responses={409: {"model": ErrorResponse, "description": "Another category has this URL"}},
    openapi_extra=json_body(
        CategoryCreate,
        examples={
            "top": {
                "summary": "A top-level category",
                "value": {k: v for k, v in CATEGORY_EXAMPLE.items() if k != "id"},
            },
            "sub": {
                "summary": "A sub-category",
                "value": {"name": "Interior Doors", "url": "interior-doors", "parentCategory": 1},
            },
        },
    ),
)
def create_category(store: SecretKeyStore, session: WriteSession, body: JsonObject) -> Category:
    """Create a category, at the top level or under parentCategory."""
    return service.create_category(session, store.store_id, validate(CategoryCreate, body))


def _flag(name: str, raw: str | None) -> bool:
    """A boolean query parameter (true/false, 1/0); anything else is this API's 400."""
    if raw is None or raw == "" or raw.lower() in ("false", "0"):
        return False
    if raw.lower() in ("true", "1"):
        return True
    raise BadRequest(f"The {name} parameter must be true or false.")
