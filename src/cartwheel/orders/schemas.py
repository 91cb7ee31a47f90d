"""The order shape of the store data API (also the ``order_*`` webhook payload), and the
cart and customer subscription views of Cartwheel's own API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cartwheel.identity.addresses import Email
from cartwheel.text import SINGLE_LINE

OrderStatus = Literal["pending", "shipped", "completed", "canceled", "archived"]
OrderStatusInput = Literal["PENDING", "SHIPPED", "COMPLETED", "CANCELED", "ARCHIVED"]
DiscountType = Literal["fixed_discount", "percent_discount", "free_shipping"]
CartStatus = Literal["open", "abandoned", "converted"]
CART_STATUSES: tuple[str, ...] = ("open", "abandoned", "converted")

ADDRESS_EXAMPLE: dict[str, Any] = {
    key: "string"
    for key in (
        "name",
        "phone",
        "companyName",
        "companyId",
        "country",
        "state",
        "city",
        "zipCode",
        "address",
        "address2",
    )
}

ORDER_EXAMPLE: dict[str, Any] = {
    "id": 1234,
    "invoiceNo": 15,
    "created": 1573397217,
    "customerName": "John Doe",
    "customerEmail": "john@email.com",
    "contactId": 0,
    "memberId": 0,
    "shippingAddress": ADDRESS_EXAMPLE,
    "billingAddress": ADDRESS_EXAMPLE,
    "shippingRequired": True,
    "weight": 0,
    "weightUnit": "kg",
    "subTotal": 49,
    "total": 49,
    "discountCode": "string",
    "discountType": "fixed_discount",
    "discountAmount": 0,
    "shippingName": "string",
    "shippingAmount": 0,
    "paid": True,
    "paymentMethod": "stripe",
    "transactionId": "string",
    "status": "completed",
    "taxes": [
        {
            "name": "Sales Tax",
            "total": 20,
            "applyToShipping": True,
            "rate": 10,
            "type": "PERCENT",
            "appliedToItems": [0, 1, 2],
        }
    ],
    "items": [
        {
            "id": 123,
            "name": "Running Shoes",
            "url": "running-shoes",
            "productId": 24,
            "type": "physical",
            "sku": "string",
            "quantity": 1,
            "total": 49,
            "weight": 0,
            "width": 0,
            "height": 0,
            "length": 0,
            "shippingRequired": True,
            "variation": [{"name": "string", "value": "string"}],
            "additions": [{"name": "string", "value": "string"}],
        }
    ],
    "tags": ["string"],
    "additionalFields": [{"field": "string", "value": "string"}],
    "notes": [{"time": 1686043751, "value": "Order Note Text Sample"}],
}

ORDER_UPDATE_EXAMPLE: dict[str, Any] = {
    "customerName": "string",
    "customerEmail": "user@example.com",
    "billingAddress": ADDRESS_EXAMPLE,
    "shippingAddress": ADDRESS_EXAMPLE,
    "paymentMethod": "string",
    "transactionId": "string",
    "paid": True,
    "status": "PENDING",
    "fulfillment": {"courier": "UPS", "trackingNo": "123456789ABC"},
    "notifyCustomer": True,
}


class OrderAddress(BaseModel):
    """A billing or shipping address."""

    model_config = ConfigDict(json_schema_extra={"examples": [ADDRESS_EXAMPLE]})

    name: str | None = Field(default=None, description="Full name.")
    phone: str | None = Field(default=None, description="Phone number.")
    companyName: str | None = Field(default=None, description="Company name.")
    companyId: str | None = Field(default=None, description="Company registration id.")
    country: str | None = Field(default=None, description="Country.")
    state: str | None = Field(default=None, description="State or region.")
    city: str | None = Field(default=None, description="City.")
    zipCode: str | None = Field(default=None, description="Postal code.")
    address: str | None = Field(default=None, description="Street address.")
    address2: str | None = Field(default=None, description="Additional address line.")


#: A single-line input field: stored rows are shown as they are (output models do not
#: check them), so a legacy value with a control character still reads.
_Line = Annotated[str, SINGLE_LINE]


class OrderAddressInput(OrderAddress):
    """A billing or shipping address to set: single-line fields only."""

    name: _Line | None = Field(default=None, description="Full name.")
    phone: _Line | None = Field(default=None, description="Phone number.")
    companyName: _Line | None = Field(default=None, description="Company name.")
    companyId: _Line | None = Field(default=None, description="Company registration id.")
    country: _Line | None = Field(default=None, description="Country.")
    state: _Line | None = Field(default=None, description="State or region.")
    city: _Line | None = Field(default=None, description="City.")
    zipCode: _Line | None = Field(default=None, description="Postal code.")
    address: _Line | None = Field(default=None, description="Street address.")
    address2: _Line | None = Field(default=None, description="Additional address line.")


class Tax(BaseModel):
    name: str = Field(description="Tax name.", examples=["Sales Tax"])
    total: float = Field(description="Amount of tax charged.", examples=[20])
    applyToShipping: bool = Field(description="Whether the tax applies to shipping too.")
    rate: float | None = Field(description="Tax rate (null when only the amount is known).")
    type: str | None = Field(description="How the rate applies, e.g. PERCENT.")
    appliedToItems: list[int] = Field(description="Indexes of the items the tax applies to.")


class OrderItemOption(BaseModel):
    name: str = Field(description="Name.")
    value: str = Field(description="Value.")


class OrderFieldValue(BaseModel):
    field: str = Field(description="Field name.")
    value: str = Field(description="Field value.")


class OrderNote(BaseModel):
    time: int = Field(description="When the note was added (Unix seconds).")
    value: str = Field(description="The note text.")


class OrderItem(BaseModel):
    id: int = Field(description="Unique identifier of the order line.", examples=[123])
    name: str = Field(description="Product name.", examples=["Running Shoes"])
    url: str | None = Field(description="Product URL.")
    productId: int = Field(description="Id of the product (0 when it is not in the catalog).")
    type: str = Field(description="Product type: physical, digital, service or membership.")
    sku: str | None = Field(description="Stock keeping unit.")
    quantity: int = Field(description="Quantity ordered.", examples=[1])
    total: float = Field(description="Line total.", examples=[49])
    weight: float = Field(description="Weight.")
    width: float = Field(description="Width.")
    height: float = Field(description="Height.")
    length: float = Field(description="Length.")
    shippingRequired: bool = Field(description="Whether this line needs shipping.")
    variation: list[OrderItemOption] = Field(description="The chosen variant's option values.")
    additions: list[OrderItemOption] = Field(description="Additions chosen with the product.")


class Order(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_EXAMPLE]})

    id: int = Field(description="Unique identifier.")
    invoiceNo: int = Field(description="Invoice number assigned to the order.")
    created: int = Field(description="Timestamp in Unix seconds since epoch (time placed).")
    customerName: str | None = Field(description="Customer name.")
    customerEmail: str | None = Field(description="Customer email.")
    contactId: int = Field(description="Unique identifier of the contact that made the order.")
    memberId: int = Field(
        description="Unique identifier of the registered member that made the order (if any)."
    )
    shippingAddress: OrderAddress | None = Field(description="A billing or shipping address.")
    billingAddress: OrderAddress | None = Field(description="A billing or shipping address.")
    shippingRequired: bool = Field(
        description="Whether the order contains physical products requiring shipping."
    )
    weight: float = Field(description="Total weight of the order.")
    weightUnit: str = Field(description="Weight unit (kg, lb).")
    subTotal: float = Field(description="Total of the items.")
    total: float = Field(description="Order total.")
    discountCode: str | None = Field(description="Used discount code.")
    discountType: DiscountType | None = Field(description="Type of discount used.")
    discountAmount: float = Field(description="Discount amount.")
    shippingName: str | None = Field(description="Shipping method used (if any).")
    shippingAmount: float = Field(description="Cost of shipping.")
    paid: bool = Field(description="Whether the order is paid.")
    paymentMethod: str | None = Field(description="Payment method used to place the order.")
    transactionId: str | None = Field(description="If paid, the payment transaction id.")
    status: OrderStatus = Field(
        description="Order status. Returned in lowercase; see the Update operation for the "
        "accepted uppercase input values."
    )
    taxes: list[Tax] = Field(description="Taxes charged.")
    items: list[OrderItem] = Field(description="Order lines.")
    tags: list[str] = Field(description="List of tags assigned to the order.")
    additionalFields: list[OrderFieldValue] = Field(
        description="Field/value pairs of all additional fields collected with the order."
    )
    notes: list[OrderNote] = Field(
        description="Private notes added to this order (time/value pairs)."
    )


class Fulfillment(BaseModel):
    courier: _Line | None = Field(default=None, description="Courier.", examples=["UPS"])
    trackingNo: _Line | None = Field(
        default=None, description="Tracking number.", examples=["123456789ABC"]
    )
    trackingUrl: _Line | None = Field(default=None, description="Tracking page URL.")


class OrderUpdate(BaseModel):
    """Only non-empty fields are set."""

    customerName: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None, description="Customer name."
    )
    customerEmail: Email | None = Field(default=None, max_length=320, description="Customer email.")
    billingAddress: OrderAddressInput | None = Field(default=None, description="Billing address.")
    shippingAddress: OrderAddressInput | None = Field(default=None, description="Shipping address.")
    paymentMethod: Annotated[str, Field(max_length=100), SINGLE_LINE] | None = Field(
        default=None, description='The payment method type, e.g. "stripe".'
    )
    transactionId: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None,
        description="The transaction id uniquely identifying the payment for this order.",
    )
    paid: bool | None = Field(default=None, description="Whether the order is paid.")
    status: OrderStatusInput | None = Field(default=None, description="The order status to set.")
    fulfillment: Fulfillment | None = Field(default=None, description="Shipment details.")
    notifyCustomer: bool | None = Field(
        default=None, description="Whether to notify the customer of this change."
    )


# -- Cartwheel's own record views ----------------------------------------------------------


class LineItem(BaseModel):
    productId: str | None = Field(description="The store's product id.")
    variantId: str | None = Field(description="The store's variant id.")
    name: str | None = Field(description="Product name.")
    sku: str | None = Field(description="Stock keeping unit.")
    url: str | None = Field(description="Product URL.")
    imageUrl: str | None = Field(description="Product image URL.")
    price: float | None = Field(description="Unit price.")
    quantity: float | None = Field(description="Quantity.")
    total: float | None = Field(description="Line total.")


class Cart(BaseModel):
    id: int = Field(description="Cartwheel's cart id.")
    externalId: str | None = Field(description="The store's own cart id, if it sent one.")
    contactId: int | None = Field(description="The contact whose cart this is.")
    status: CartStatus = Field(
        description="open; abandoned (the store reported it abandoned); converted (an order "
        "of the contact completed or was paid)."
    )
    items: list[LineItem] = Field(description="Products in the cart.")
    total: float | None = Field(description="Cart total.")
    totalProducts: int | None = Field(description="Number of products in the cart.")
    currency: str | None = Field(description="ISO 4217 currency.")
    url: str | None = Field(description="URL of the cart.")
    orderId: int | None = Field(description="The order the cart became, once converted.")
    abandonedOn: int | None = Field(description="When it was abandoned (Unix seconds).")
    convertedOn: int | None = Field(description="When it was converted (Unix seconds).")
    createdOn: int = Field(description="When the cart was first seen (Unix seconds).")
    updatedOn: int = Field(description="When the cart last changed (Unix seconds).")


class CustomerSubscription(BaseModel):
    id: int = Field(description="Cartwheel's subscription id.")
    externalId: str = Field(description="The store's own subscription id.")
    contactId: int | None = Field(description="The subscribing contact.")
    status: str = Field(
        description="pending, active, paused, past_due (a renewal failed), cancelled, expired "
        "or deleted."
    )
    currency: str | None = Field(description="ISO 4217 currency.")
    url: str | None = Field(description="URL of the subscription in the store.")
    plan: str | None = Field(description="Plan name.")
    planId: str | None = Field(description="The store's plan id.")
    amount: float | None = Field(description="Amount charged per cycle.")
    interval: str | None = Field(description="Billing interval (day, week, month, year).")
    intervalCount: int | None = Field(description="Intervals per billing cycle.")
    items: list[LineItem] = Field(description="Products subscribed to.")
    nextPaymentOn: int | None = Field(description="Next payment (Unix seconds).")
    startedOn: int | None = Field(description="Start (Unix seconds).")
    renewedOn: int | None = Field(description="Last renewal (Unix seconds).")
    cancelledOn: int | None = Field(description="Cancellation (Unix seconds).")
    endedOn: int | None = Field(description="End, when expired or deleted (Unix seconds).")
    createdOn: int = Field(description="When Cartwheel first saw it (Unix seconds).")
    updatedOn: int = Field(description="When it last changed (Unix seconds).")
