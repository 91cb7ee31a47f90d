"""Orders of the store data API, and Cartwheel's read-only views of the carts and customer
subscriptions that the store's lifecycle events keep (secret key, scoped to its store)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.exceptions import BadRequest
from cartwheel.kit.errors import ERROR_RESPONSES, native_router
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.requests import (
    JsonObject,
    int_param,
    text_param,
    timestamp_param,
    validate,
)
from cartwheel.kit.session import ReadSession, WriteSession
from cartwheel.orders import service
from cartwheel.orders.schemas import (
    CART_STATUSES,
    ORDER_UPDATE_EXAMPLE,
    Cart,
    CustomerSubscription,
    Order,
    OrderUpdate,
)

router = native_router(prefix="/v1", responses=ERROR_RESPONSES)

OrderId = Annotated[int, Path(description="The id of the order.", examples=[1234])]
ContactFilter = Annotated[
    str | None, Query(alias="contactId", description="Only records of this contact.")
]


@router.get("/orders", response_model=Page[Order], tags=["orders"])
def list_orders(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    # Filters arrive as text and are parsed by hand: a bad one is a 400, like a bad limit.
    created_at_min: Annotated[
        str | None,
        Query(
            description="List only orders created after the specified timestamp (inclusive, "
            "in seconds since the Unix epoch).",
            examples=["1573251649"],
        ),
    ] = None,
    created_at_max: Annotated[
        str | None,
        Query(
            description="List only orders created before the specified timestamp (inclusive, "
            "in seconds since the Unix epoch).",
            examples=["1573251649"],
        ),
    ] = None,
) -> Page[Order]:
    """Get a paginated list of all orders created in your website. Optionally filter by
    created date."""
    items, total = service.list_orders(
        session,
        store.store_id,
        page,
        created_min=timestamp_param("created_at_min", created_at_min),
        created_max=timestamp_param("created_at_max", created_at_max),
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.get("/orders/{id}", response_model=Order, tags=["orders"])
def get_order(id: OrderId, store: SecretKeyStore, session: ReadSession) -> Order:
    """Get a single order."""
    return service.get_order(session, store.store_id, id)


@router.put(
    "/orders/{id}",
    response_model=Order,
    tags=["orders"],
    openapi_extra=json_body(
        OrderUpdate,
        examples={
            "document": {"summary": "The document's example", "value": ORDER_UPDATE_EXAMPLE},
            "ship": {
                "summary": "Mark shipped with tracking",
                "value": {
                    "status": "SHIPPED",
                    "fulfillment": {"courier": "UPS", "trackingNo": "123456789ABC"},
                    "notifyCustomer": True,
                },
            },
        },
    ),
)
def update_order(
    id: OrderId, store: SecretKeyStore, session: WriteSession, body: JsonObject
) -> Order:
    """Update a single order's details. Only non-empty fields are set.

    Available order statuses are PENDING, SHIPPED, COMPLETED, CANCELED and ARCHIVED (the
    order shows them in lowercase)."""
    return service.update_order(session, store.store_id, id, validate(OrderUpdate, body))


@router.get("/carts", response_model=Page[Cart], tags=["carts"])
def list_carts(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    contact_id: ContactFilter = None,
    status: Annotated[
        str | None, Query(description="Only carts in this state: open, abandoned or converted.")
    ] = None,
) -> Page[Cart]:
    """Carts the store's cart events describe, oldest first."""
    items, total = service.list_carts(
        session,
        store.store_id,
        page,
        contact_id=int_param("contactId", contact_id),
        status=_cart_status(status),
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.get("/carts/{id}", response_model=Cart, tags=["carts"])
def get_cart(
    id: Annotated[int, Path(description="The id of the cart.")],
    store: SecretKeyStore,
    session: ReadSession,
) -> Cart:
    """Get a single cart."""
    return service.get_cart(session, store.store_id, id)


@router.get(
    "/customer-subscriptions", response_model=Page[CustomerSubscription], tags=["subscriptions"]
)
def list_subscriptions(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    contact_id: ContactFilter = None,
    status: Annotated[str | None, Query(description="Only subscriptions in this state.")] = None,
) -> Page[CustomerSubscription]:
    """Customers' recurring purchases, as the store's subscription events describe them."""
    items, total = service.list_subscriptions(
        session,
        store.store_id,
        page,
        contact_id=int_param("contactId", contact_id),
        status=text_param("status", status),
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.get(
    "/customer-subscriptions/{id}", response_model=CustomerSubscription, tags=["subscriptions"]
)
def get_subscription(
    id: Annotated[int, Path(description="The id of the customer subscription.")],
    store: SecretKeyStore,
    session: ReadSession,
) -> CustomerSubscription:
    """Get a single customer subscription."""
    return service.get_subscription(session, store.store_id, id)


def _cart_status(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in CART_STATUSES:
        raise BadRequest(f"The status parameter must be one of: {', '.join(CART_STATUSES)}.")
    return raw
