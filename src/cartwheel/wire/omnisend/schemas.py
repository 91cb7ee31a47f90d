"""The Omnisend ``/v5/events`` request and error shapes, for the OpenAPI document only (the
endpoint decodes bodies itself, see :mod:`cartwheel.wire.omnisend.parse`), and the document's
example event."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cartwheel.limits import EVENT_NAME_MAX, SOURCE_MAX


class _Open(BaseModel):
    # Omnisend accepts properties beyond the documented ones and keeps them.
    model_config = ConfigDict(extra="allow")


class OmnisendContact(_Open):
    """The person the event is about. At least one of `id`, `email` or `phone` is required;
    they are tried in that order. The contact is created when none matches."""

    id: str | None = Field(default=None, description="The store's own id for the contact.")
    email: str | None = Field(
        default=None, description="Email address.", json_schema_extra={"format": "email"}
    )
    phone: str | None = Field(default=None, description="Phone number (stored as E.164).")
    firstName: str | None = Field(default=None, max_length=50, description="First name.")
    lastName: str | None = Field(default=None, max_length=50, description="Last name.")
    birthdate: str | None = Field(
        default=None, description="Birth date, YYYY-MM-DD (kept as custom field `birthdate`)."
    )
    gender: Literal["m", "f"] | None = Field(
        default=None, description="`m` or `f` (kept as custom field `gender`)."
    )
    address: str | None = Field(
        default=None, max_length=500, description="Street, house number, apartment."
    )
    city: str | None = Field(default=None, max_length=100, description="City.")
    state: str | None = Field(default=None, max_length=100, description="State.")
    postalCode: str | None = Field(default=None, max_length=20, description="Postal code.")
    country: str | None = Field(default=None, max_length=100, description="Country.")
    countryCode: str | None = Field(default=None, max_length=3, description="Country code.")
    customProperties: dict[str, Any] | None = Field(
        default=None, description="Custom contact properties, merged into the contact's own."
    )
    tags: list[str] | None = Field(default=None, description="Accepted; not applied.")


class OmnisendAddress(_Open):
    address1: str | None = Field(default=None, description="Address 1.")
    address2: str | None = Field(default=None, description="Address 2.")
    city: str | None = Field(default=None, description="City.")
    company: str | None = Field(default=None, description="Company.")
    country: str | None = Field(default=None, description="Country.")
    firstName: str | None = Field(default=None, description="First name.")
    lastName: str | None = Field(default=None, description="Last name.")
    phone: str | None = Field(default=None, description="Phone.")
    state: str | None = Field(default=None, description="State.")
    stateCode: str | None = Field(default=None, description="State code.")
    zip: str | None = Field(default=None, description="Zip.")


class OmnisendProductCategory(_Open):
    id: str | None = Field(default=None, description="Id.")
    title: str | None = Field(default=None, description="Title.")


class OmnisendLineItem(_Open):
    productCategories: list[OmnisendProductCategory] | None = Field(
        default=None, description="Product categories."
    )
    productDescription: str | None = Field(default=None, description="Product description.")
    productDiscount: float | None = Field(
        default=None,
        description="Absolute value of product discount, i.e. if the current price is 20 and "
        "the old price is 30, the discount is 10.",
    )
    productID: str | None = Field(default=None, description="Product ID.")
    productImageURL: str | None = Field(default=None, description="Direct link to product image.")
    productPrice: float | None = Field(default=None, description="Current product price.")
    productQuantity: float | None = Field(default=None, description="Total added quantity.")
    productSKU: str | float | None = Field(
        default=None,
        description="Current stock units (a string; the document's example sends a number, "
        "which is accepted too).",
    )
    productTags: list[str] | None = Field(default=None, description="Product tags.")
    productTitle: str | None = Field(default=None, description="Full product title.")
    productURL: str | None = Field(default=None, description="URL to product page.")
    productVariantID: str | None = Field(default=None, description="Product variant ID.")
    productVariantImageURL: str | None = Field(
        default=None, description="Direct link to a product variant image."
    )
    productVariantTitle: str | None = Field(default=None, description="Product variant title.")
    productVendor: str | None = Field(default=None, description="Product vendor.")
    productWeight: float | None = Field(default=None, description="Product weight.")


class OmnisendDiscount(_Open):
    amount: float | str | None = Field(
        default=None,
        description='Amount (a number; the document\'s example sends "-", which is accepted '
        "and left out of the order record).",
    )
    code: str | None = Field(default=None, description="Discount code that the user has used.")
    type: str | None = Field(default=None, description="Type.")


class OmnisendTracking(_Open):
    code: str | None = Field(default=None, description="Code.")
    courierTitle: str | None = Field(default=None, description="Courier title.")
    courierURL: str | None = Field(
        default=None, description="Tracking URL where the user can check the order status."
    )
    status: str | None = Field(default=None, description="Status.")


class OmnisendPaidForOrderProperties(_Open):
    """The properties of `paid for order` (event version v2), checked against these types.
    Other event names take any object as `properties`."""

    billingAddress: OmnisendAddress | None = Field(default=None, description="Billing address.")
    createdAt: str | None = Field(
        default=None, description="Created at, an ISO 8601 date string (2023-11-10T07:00:00)."
    )
    currency: str | None = Field(default=None, description="Currency code in ISO 4217 format.")
    discounts: list[OmnisendDiscount] | None = Field(default=None, description="Discounts.")
    fulfillmentStatus: str | None = Field(
        default=None,
        description="Fulfillment status, recommended to be one of: unfulfilled, inProgress, "
        "fulfilled, delivered, restocked.",
    )
    lineItems: list[OmnisendLineItem] | None = Field(default=None, description="Line items.")
    note: str | None = Field(
        default=None, description="Additional note left by customer or shop admin."
    )
    orderID: str | None = Field(default=None, description="Order ID.")
    orderNumber: float | str | None = Field(
        default=None,
        description="Order number (a number; the document's example sends a string, which is "
        "accepted too).",
    )
    orderStatusURL: str | None = Field(
        default=None, description="Direct link where the customer can check the order status."
    )
    paymentMethod: str | None = Field(default=None, description="Payment method.")
    paymentStatus: str | None = Field(
        default=None,
        description="Payment status, recommended to be one of: awaitingPayment, partiallyPaid, "
        "paid, partiallyRefunded, refunded, voided.",
    )
    shippingAddress: OmnisendAddress | None = Field(default=None, description="Shipping address.")
    shippingMethod: str | None = Field(default=None, description="Shipping method.")
    shippingPrice: float | None = Field(default=None, description="Shipping price.")
    subTotalPrice: float | None = Field(default=None, description="Sub total price.")
    subTotalTaxIncluded: bool | None = Field(default=None, description="Sub total tax included.")
    tags: list[str] | None = Field(default=None, description="Order tags added by the shop.")
    totalDiscount: float | None = Field(default=None, description="Total discount.")
    totalPrice: float | None = Field(
        default=None,
        description="Total price: the event's value (the sum of the line items when absent).",
    )
    totalTax: float | None = Field(default=None, description="Total tax.")
    tracking: OmnisendTracking | None = Field(default=None, description="Tracking.")


class OmnisendEventRequest(_Open):
    """A customer event. `paid for order` becomes an order lifecycle event; any other name is
    a custom event."""

    eventName: str = Field(
        max_length=EVENT_NAME_MAX,
        description="The event's name; `paid for order` unlocks the order confirmation "
        "workflow and contact segmentation.",
    )
    origin: str = Field(
        max_length=SOURCE_MAX, description="The event's source: `api`, or the sending app's name."
    )
    eventVersion: str | None = Field(
        default=None, description="`v2` for `paid for order`; empty for custom events."
    )
    eventTime: str | None = Field(
        default=None,
        description="ISO 8601 timestamp (RFC 3339, or `YYYY-MM-DD HH:MM:SS±HH:MM`); defaults "
        "to the current time.",
    )
    eventID: str | None = Field(
        default=None,
        description="UUID of the event. With `eventTime`, a resent event is stored once.",
    )
    contact: OmnisendContact = Field(description="The contact, created or updated.")
    properties: OmnisendPaidForOrderProperties | dict[str, Any] | None = Field(
        default=None, description="Event properties."
    )


class OmnisendError(BaseModel):
    """Omnisend's error shape: `error` (what went wrong), the status, and for validation
    errors every invalid field with its messages."""

    error: str = Field(description="What went wrong, for a human.")
    statusCode: int = Field(description="The HTTP status code.")
    fields: dict[str, list[str]] | None = Field(
        default=None, description="Invalid fields (dotted paths) and their messages."
    )


# -- the document's example --------------------------------------------------------------------

_ADDRESS_EXAMPLE: dict[str, Any] = {
    "address1": "123 Main Street",
    "address2": "123 A Main Street",
    "city": "AnyTown",
    "company": "SuperCompany",
    "country": "USA",
    "firstName": "John",
    "lastName": "Smith",
    "phone": "+443031237300",
    "state": "California",
    "stateCode": "CA",
    "zip": "90210",
}

PAID_FOR_ORDER_EXAMPLE: dict[str, Any] = {
    "eventName": "paid for order",
    "origin": "api",
    "eventVersion": "v2",
    "eventTime": "2021-07-01T00:00:00Z",
    # The document's address was hidden by e-mail protection when it was saved.
    "contact": {"email": "john.smith@example.com"},
    "properties": {
        "billingAddress": dict(_ADDRESS_EXAMPLE),
        "createdAt": "2023-11-10T07:00:00",
        "currency": "EUR",
        "discounts": [{"amount": "-", "code": "SUMMER20", "type": "-"}],
        "fulfillmentStatus": "unfulfilled",
        "lineItems": [
            {
                "productCategories": [{"id": "123", "title": "Shoes"}],
                "productDescription": "The best product with many various features",
                "productDiscount": 10,
                "productID": "1",
                "productImageURL": "https://example.com/product/232423-image.jpg",
                "productPrice": 19.99,
                "productQuantity": 2,
                "productSKU": 200,
                "productTitle": "The best product",
                "productURL": "https://example.com/product/232423",
                "productVariantID": "123",
                "productVariantImageURL": "https://example.com/product/232423-variant-image.jpg",
                "productVariantTitle": "Full product title - Green",
                "productVendor": "BestCompany",
                "productWeight": 20.4,
            }
        ],
        "note": "Please send it ASAP",
        "orderID": "4122111",
        "orderNumber": "4122111",
        "orderStatusURL": "https://example.com/orders",
        "paymentMethod": "card",
        "paymentStatus": "awaitingPayment",
        "shippingAddress": dict(_ADDRESS_EXAMPLE),
        "shippingMethod": "Example Courier",
        "shippingPrice": 2.5,
        "tags": ["not-paid"],
        "tracking": {
            "courierTitle": "Example Courier",
            "courierURL": "https://courier-example.com/track-order",
        },
    },
}

CUSTOM_EVENT_EXAMPLE: dict[str, Any] = {
    "eventName": "my custom event",
    "origin": "api",
    "contact": {"email": "john.smith@example.com", "phone": "+443031237300"},
    "properties": {"plan": "premium", "renewsAt": "2026-01-01T00:00:00Z", "seats": 3},
}

EXAMPLES: dict[str, Any] = {
    "paid_for_order": {
        "summary": "The document's example `paid for order` event (v2)",
        "value": PAID_FOR_ORDER_EXAMPLE,
    },
    "custom_event": {"summary": "A custom event", "value": CUSTOM_EVENT_EXAMPLE},
}
