"""The Lindris Events API request bodies, field by field, as the document states them.

One table per event type drives both validation (:mod:`.validation`) and the OpenAPI
document (:mod:`.schemas`), so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from cartwheel.limits import EVENT_NAME_MAX as _EVENT_NAME_MAX
from cartwheel.limits import IDENTIFIER_MAX as _IDENTIFIER_MAX
from cartwheel.limits import SOURCE_MAX as _SOURCE_MAX
from cartwheel.wire.lindris.validation import FieldSpec

UUID_EXAMPLE = "318835f4-f968-4894-9847-358399823d6c"
CAST = "Numeric values will be cast to strings."
EITHER = "Either email or referenceId must be provided."
#: A currency code: three letters (ISO 4217), as the other formats check it.
CURRENCY_PATTERN = "[A-Za-z]{3}"


def identity_fields(email_description: str, email_example: str | None = None) -> list[FieldSpec]:
    return [
        FieldSpec("email", "email", email_description, email_example, max_length=_IDENTIFIER_MAX),
        FieldSpec(
            "referenceId",
            "id",
            f"The person's unique identifier. {EITHER} {CAST}",
            "cust_123456",
            max_length=_IDENTIFIER_MAX,
        ),
        FieldSpec(
            "uuid",
            "uuid",
            "The uuid from a previous event response. Can be used instead of email or referenceId.",
            UUID_EXAMPLE,
        ),
    ]


def source_field(description: str, example: str = "woocommerce") -> FieldSpec:
    return FieldSpec("source", "string", description, example, True, _SOURCE_MAX)


def flag_fields(noun: str) -> list[FieldSpec]:
    return [
        FieldSpec(
            "silent",
            "boolean",
            "If true, no workflow automations will be triggered, but the event will be stored.",
            True,
        ),
        FieldSpec(
            "test",
            "boolean",
            f"If true, no {noun} will be added but response will be returned. Useful for "
            "testing the event properties without storing the event. Response is "
            "representative only.",
            True,
        ),
    ]


PERSON_EMAIL = f"The person's email address. {EITHER}"
DATE_EXAMPLE = "2024-03-21T15:30:00Z"


def _line_item(quantity_description: str, *, sku: bool) -> tuple[FieldSpec, ...]:
    """One product of a cart, order or subscription (``products.*``)."""
    fields = [
        FieldSpec("id", "id", f"The unique identifier for the product. {CAST}", "prod_123", True),
        FieldSpec("name", "string", "The name of the product.", "Awesome T-Shirt", True),
        FieldSpec(
            "url",
            "string",
            "A URL to the site containing the product details.",
            "https://store.example.com/products/awesome-tshirt",
        ),
        FieldSpec(
            "image_url",
            "string",
            "A direct URL to an image of the product.",
            "https://store.example.com/images/awesome-tshirt.jpg",
        ),
    ]
    if sku:
        fields.append(FieldSpec("sku", "string", "The SKU for the product.", "TSH-001"))
    fields += [
        FieldSpec(
            "variant_id",
            "id",
            f"The unique identifier for the variant of the product. {CAST}",
            "var_123",
        ),
        FieldSpec("brand", "string", "The brand name for the product.", "Awesome Brand"),
        FieldSpec("price", "number", "The price of the product.", 29.99),
        FieldSpec("quantity", "integer", quantity_description, 2),
        FieldSpec("total", "number", "The line item total after all calculations.", 59.98),
        FieldSpec("discounts", "number", "The total discounts applied to this product.", 10),
        FieldSpec("taxes", "number", "The total taxes for this product.", 5),
        FieldSpec("fees", "number", "The total fees for this product.", 2),
        FieldSpec("shipping", "number", "The total shipping for this product.", 5),
    ]
    return tuple(fields)


def _address(
    field: str,
    description: str,
    *,
    what: str,
    label: str,
    address2: str = "Suite 100",
    phone: str = "+1234567890",
    company: str = "Acme Inc",
) -> FieldSpec:
    """An address object. ``what`` is how the document words its members: "billing " gives
    "The city on the billing address.", "" gives "The city on the address."."""
    # The document's one irregular wording: the plain address has a "state/province".
    state = "state" if what else "state/province"
    street = f"The {what}street address."
    return FieldSpec(
        field,
        "object",
        description,
        fields=(
            FieldSpec("label", "string", f"The label describing the {what}address.", label),
            FieldSpec("first_name", "string", f"The first name on the {what}address.", "John"),
            FieldSpec("last_name", "string", f"The last name on the {what}address.", "Doe"),
            FieldSpec("phone", "string", f"The phone number on the {what}address.", phone),
            FieldSpec("company", "string", f"The company on the {what}address.", company),
            FieldSpec("address1", "string", street, "123 Main St"),
            FieldSpec("address2", "string", f"Additional {what}address line.", address2),
            FieldSpec("city", "string", f"The city on the {what}address.", "New York"),
            FieldSpec("state", "string", f"The {state} on the {what}address.", "NY"),
            FieldSpec(
                "postal_code", "string", f"The postal/zip code on the {what}address.", "10001"
            ),
            FieldSpec("country", "string", f"The country on the {what}address.", "US"),
        ),
    )


@dataclass(frozen=True, slots=True)
class EventType:
    """One ``POST api/events/{type}/{action}`` endpoint of the document."""

    name: str
    title: str
    description: str
    actions: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    #: Fields that are the event's own timestamp rather than a property of the record.
    occurred_field: str | None = None


GENERIC_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "eventName",
        "string",
        "Event name to be tracked.",
        "clicked_home_cta",
        True,
        _EVENT_NAME_MAX,
    ),
    *identity_fields(PERSON_EMAIL),
    source_field("The e-commerce/platform source."),
    FieldSpec("properties", "map", "A key-value pair of event properties to be tracked."),
    *flag_fields("event"),
)

CART = EventType(
    "cart",
    "Track a cart event",
    "For tracking cart lifecycle events",
    ("created", "updated", "abandoned"),
    (
        *identity_fields(PERSON_EMAIL),
        source_field("The e-commerce platform source."),
        # The document lists the cart id as optional (its error example, shared by every
        # type, shows "The id field is required."): the field list is the rule we follow.
        FieldSpec(
            "id",
            "id",
            "The unique identifier for the cart, usually a cart session ID or similar. " + CAST,
            "cart_123456",
        ),
        FieldSpec("occurredAt", "date", "The timestamp when this action occurred.", DATE_EXAMPLE),
        FieldSpec(
            "products",
            "objects",
            "The products in the cart.",
            fields=_line_item("The quantity of the product.", sku=True),
        ),
        FieldSpec("total", "number", "The total value of the cart.", 59.98),
        FieldSpec("total_products", "integer", "The total number of products in the cart.", 2),
        FieldSpec("url", "string", "The URL of the cart.", "https://store.example.com/cart"),
        FieldSpec(
            "currency", "string", "The currency code (ISO 4217).", "USD", pattern=CURRENCY_PATTERN
        ),
        FieldSpec("modified_at", "date", "When the cart was last modified.", DATE_EXAMPLE),
        *flag_fields("cart event"),
    ),
    occurred_field="occurredAt",
)

PRODUCT = EventType(
    "product",
    "Track a product event",
    "For tracking product lifecycle events",
    ("viewed", "created", "updated", "deleted"),
    (
        *identity_fields(PERSON_EMAIL),
        source_field("The e-commerce platform source."),
        FieldSpec(
            "id", "id", f"The unique identifier for the product. {CAST}", "prod_123456", True
        ),
        FieldSpec(
            "modified_at",
            "date",
            "The timestamp when this product was last modified.",
            DATE_EXAMPLE,
        ),
        FieldSpec(
            "created_at", "date", "The timestamp when this product was created.", DATE_EXAMPLE
        ),
        FieldSpec("name", "string", "The name of the product.", "Awesome T-Shirt"),
        FieldSpec(
            "description", "string", "The description of the product.", "A really awesome t-shirt"
        ),
        FieldSpec(
            "url",
            "string",
            "The URL of the product.",
            "https://store.example.com/products/awesome-tshirt",
        ),
        FieldSpec(
            "image_url",
            "string",
            "The URL of the product image.",
            "https://store.example.com/images/awesome-tshirt.jpg",
        ),
        FieldSpec("price", "number", "The price of the product.", 29.99),
        FieldSpec("sku", "string", "The SKU of the product.", "TSH-001"),
        FieldSpec("barcode", "string", "The barcode of the product.", "123456789"),
        FieldSpec(
            "categories", "strings", "The categories of the product.", ["Clothing", "T-Shirts"]
        ),
        FieldSpec("tags", "strings", "The tags of the product.", ["summer", "sale"]),
        FieldSpec("vendor", "string", "The vendor/manufacturer of the product.", "Awesome Brand"),
        FieldSpec("type", "string", "The type of the product.", "T-Shirt"),
        FieldSpec("brand", "string", "The brand of the product.", "Awesome Brand"),
        FieldSpec("public_id", "string", "The public ID of the product.", "prod_123456"),
        FieldSpec("variant_id", "string", "The variant ID of the product.", "var_123"),
        FieldSpec(
            "variants",
            "objects",
            "The variants of the product.",
            fields=(
                FieldSpec(
                    "id",
                    "id",
                    f"The unique identifier for the variant. {CAST}",
                    "var_123",
                    True,
                ),
                FieldSpec("sku", "string", "The SKU for this variant.", "TSH-001-L"),
                FieldSpec("price", "number", "The price for this variant.", 29.99),
                FieldSpec("barcode", "string", "The barcode for this variant.", "123456789-L"),
                FieldSpec("options", "strings", "The options that define this variant."),
            ),
        ),
        FieldSpec(
            "currency", "string", "The currency code (ISO 4217).", "USD", pattern=CURRENCY_PATTERN
        ),
        *flag_fields("product event"),
    ),
)

ORDER = EventType(
    "order",
    "Track an order event",
    "For tracking order lifecycle events",
    ("created", "updated", "deleted", "completed"),
    (
        *identity_fields(PERSON_EMAIL),
        source_field("The e-commerce/platform source."),
        FieldSpec("id", "id", f"The unique identifier for the order. {CAST}", "order_123456", True),
        FieldSpec("occurred_at", "date", "The timestamp when this action occurred.", DATE_EXAMPLE),
        FieldSpec(
            "products",
            "objects",
            "The products in the order.",
            fields=_line_item("The quantity of the product ordered.", sku=True),
        ),
        FieldSpec(
            "currency", "string", "The currency code (ISO 4217).", "USD", pattern=CURRENCY_PATTERN
        ),
        FieldSpec("publicId", "id", f"The customer-facing order ID. {CAST}", "#1001"),
        FieldSpec("total", "number", "The total value of the order.", 99.99),
        FieldSpec("shipping", "number", "The total shipping cost.", 5.99),
        FieldSpec("discounts", "number", "The total discounts applied.", 10),
        FieldSpec("taxes", "number", "The total taxes applied.", 8.5),
        FieldSpec("fees", "number", "The total fees applied.", 2.5),
        FieldSpec("status", "string", "The current status of the order.", "completed"),
        FieldSpec(
            "url",
            "string",
            "The public URL of the order details.",
            "https://store.example.com/order/1001",
        ),
        FieldSpec("phone", "string", "The customer's phone number.", "+1234567890"),
        _address("billing_address", "The billing address details.", what="billing ", label="Home"),
        _address(
            "shipping_address",
            "The shipping address details.",
            what="shipping ",
            label="Office",
        ),
        FieldSpec("payment_gateway", "string", "The payment gateway used.", "stripe"),
        FieldSpec("_ls", "string", "The revenue tracking hash."),
        *flag_fields("order event"),
    ),
    occurred_field="occurred_at",
)

_CUSTOMER_PHONE = "+1-555-123-4567"
_CUSTOMER_ADDRESS = {"address2": "Apt 4B", "phone": _CUSTOMER_PHONE, "company": "Acme Inc."}

_PLAN_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("plan", "string", "Subscription plan details.", "Premium"),
    FieldSpec("plan_name", "string", "Name of the subscription plan.", "Premium Plan"),
    FieldSpec("plan_id", "id", f"ID of the subscription plan. {CAST}", "plan_123"),
    FieldSpec("plan_amount", "number", "Cost of the subscription plan.", 19.99),
    FieldSpec("plan_interval", "string", "Billing interval (month, year, etc.).", "month"),
    FieldSpec("plan_interval_count", "integer", "Number of intervals between billings.", 1),
)

CUSTOMER = EventType(
    "customer",
    "Track a customer event",
    "For tracking customer lifecycle events. The Customer Events API tracks customer "
    "lifecycle events (creation, updates, deletion) that occur in your own e-commerce "
    "system; with `is_contact` the customer's data also creates or updates the contact.",
    ("created", "updated", "deleted"),
    (
        *identity_fields(PERSON_EMAIL),
        source_field("The e-commerce platform source."),
        FieldSpec(
            "id", "id", f"The unique identifier for the customer. {CAST}", "cust_123456", True
        ),
        FieldSpec(
            "is_contact",
            "boolean",
            "If true, the customer event data will be used to create or update a contact. "
            "When set to true, relevant customer fields (firstName, lastName, address, etc.) "
            "will be automatically mapped to contact fields. For existing contacts, only "
            "fields that are provided will be updated, and the source field will not be "
            "overwritten if it already exists.",
        ),
        FieldSpec("first_name", "string", "Customer's first name.", "John"),
        FieldSpec("last_name", "string", "Customer's last name.", "Doe"),
        FieldSpec("name", "string", "Full name of the customer.", "John Doe"),
        FieldSpec(
            "customer_email",
            "email",
            "Customer's email address (can differ from identifying email).",
            "john@example.com",
            max_length=_IDENTIFIER_MAX,
        ),
        FieldSpec("status", "string", "Customer account status.", "active"),
        FieldSpec("created_at", "date", "When the customer was created.", DATE_EXAMPLE),
        FieldSpec("modified_at", "date", "When the customer was last modified.", DATE_EXAMPLE),
        FieldSpec("user_id", "id", f"User ID in the source system. {CAST}", "user_123"),
        FieldSpec("purchase_count", "integer", "Number of purchases made by the customer.", 5),
        FieldSpec("purchase_value", "number", "Total value of all purchases.", 299.95),
        FieldSpec("phone", "string", "Customer's phone number.", _CUSTOMER_PHONE),
        FieldSpec(
            "url",
            "string",
            "URL to the customer's profile.",
            "https://store.example.com/customers/123",
        ),
        FieldSpec(
            "avatar_url",
            "string",
            "URL to the customer's avatar/profile image.",
            "https://store.example.com/avatars/john-doe.jpg",
        ),
        FieldSpec(
            "currency",
            "string",
            "Currency code for monetary values.",
            "USD",
            pattern=CURRENCY_PATTERN,
        ),
        FieldSpec("payment_gateway", "string", "Payment gateway used by the customer.", "stripe"),
        FieldSpec("public_id", "id", f"Public identifier for the customer. {CAST}", "pub_123456"),
        FieldSpec(
            "crm",
            "string",
            "Customer management system the customer was created in.",
            "woocommerce",
        ),
        *(
            _address(field, description, what=what, label=label, **_CUSTOMER_ADDRESS)
            for field, description, what, label in (
                ("address", "Customer's primary address details.", "", "Home"),
                ("billing_address", "Customer's billing address details.", "billing ", "Billing"),
                (
                    "shipping_address",
                    "Customer's shipping address details.",
                    "shipping ",
                    "Shipping",
                ),
            )
        ),
        FieldSpec(
            "user",
            "object",
            "Details about the connected user, if applicable.",
            fields=(
                FieldSpec("id", "id", f"The user's ID in the source system. {CAST}", "user_123"),
                FieldSpec("username", "string", "The user's username.", "johndoe"),
                FieldSpec("email", "email", "The user's email address.", "john@example.com"),
                FieldSpec("first_name", "string", "The user's first name.", "John"),
                FieldSpec("last_name", "string", "The user's last name.", "Doe"),
                FieldSpec("display_name", "string", "The user's display name.", "John Doe"),
                FieldSpec("role", "string", "The user's role in the system.", "customer"),
                FieldSpec("created_at", "date", "When the user was created.", DATE_EXAMPLE),
                FieldSpec("modified_at", "date", "When the user was last modified.", DATE_EXAMPLE),
                FieldSpec(
                    "url",
                    "string",
                    "URL to the user's profile.",
                    "https://store.example.com/users/123",
                ),
                FieldSpec(
                    "avatar_url",
                    "string",
                    "URL to the user's avatar/profile image.",
                    "https://store.example.com/avatars/john-doe.jpg",
                ),
                FieldSpec("status", "string", "User status.", "active"),
                FieldSpec("last_login", "date", "When the user last logged in.", DATE_EXAMPLE),
            ),
        ),
        *_PLAN_FIELDS,
        FieldSpec(
            "subscriptions",
            "objects",
            "Array of subscription details for customers with multiple subscriptions.",
            fields=(
                *_PLAN_FIELDS,
                FieldSpec(
                    "status",
                    "string",
                    "Status of the subscription (active, canceled, etc.).",
                    "active",
                ),
                FieldSpec("start_date", "date", "When the subscription started.", DATE_EXAMPLE),
                FieldSpec(
                    "end_date", "date", "When the subscription ends/ended.", "2025-03-21T15:30:00Z"
                ),
                FieldSpec(
                    "trial_end_date",
                    "date",
                    "When the trial period ends/ended.",
                    "2024-04-21T15:30:00Z",
                ),
                FieldSpec(
                    "canceled_at",
                    "date",
                    "When the subscription was canceled.",
                    "2024-05-21T15:30:00Z",
                ),
                FieldSpec(
                    "currency",
                    "string",
                    "Currency code for the subscription amounts.",
                    "USD",
                    pattern=CURRENCY_PATTERN,
                ),
            ),
        ),
        *flag_fields("customer event"),
    ),
)

USER = EventType(
    "user",
    "Track a user event",
    "For tracking user lifecycle events",
    ("created", "updated", "deleted"),
    (
        *identity_fields("The user's email address.", "john@example.com")[:1],
        *identity_fields(PERSON_EMAIL)[1:],
        source_field("The platform source.", "wordpress"),
        FieldSpec("id", "id", f"The unique identifier for the user. {CAST}", "user_123456", True),
        FieldSpec("is_contact", "boolean", "If true, the user will be synced to contacts.", True),
        FieldSpec("username", "string", "The username.", "johndoe"),
        FieldSpec("first_name", "string", "The user's first name.", "John"),
        FieldSpec("last_name", "string", "The user's last name.", "Doe"),
        FieldSpec("display_name", "string", "The user's display name.", "John Doe"),
        FieldSpec("role", "string", "The user's role.", "subscriber"),
        FieldSpec(
            "url",
            "string",
            "The URL to the user's profile.",
            "https://example.com/users/johndoe",
        ),
        FieldSpec(
            "avatar_url",
            "string",
            "The URL to the user's avatar image.",
            "https://example.com/avatars/johndoe.jpg",
        ),
        FieldSpec("status", "string", "The user's status.", "active"),
        FieldSpec("created_at", "date", "When the user was created.", DATE_EXAMPLE),
        FieldSpec("modified_at", "date", "When the user was last modified.", DATE_EXAMPLE),
        FieldSpec("deleted_at", "date", "When the user was deleted.", DATE_EXAMPLE),
        FieldSpec("last_login", "date", "When the user last logged in.", DATE_EXAMPLE),
        *flag_fields("user event"),
    ),
)

SUBSCRIPTION = EventType(
    "subscription",
    "Track a subscription event",
    "For tracking subscription lifecycle events",
    ("created", "updated", "deleted", "renewed", "cancelled", "expired", "renewal_failed"),
    (
        *identity_fields(PERSON_EMAIL),
        source_field("The platform source."),
        FieldSpec(
            "id", "id", f"The unique identifier for the subscription. {CAST}", "sub_123456", True
        ),
        FieldSpec(
            "url",
            "string",
            "The URL to the subscription.",
            "https://store.example.com/my-account/subscriptions/123456",
        ),
        FieldSpec(
            "currency",
            "string",
            "The three-letter ISO currency code.",
            "USD",
            pattern=CURRENCY_PATTERN,
        ),
        FieldSpec(
            "products",
            "objects",
            "The products associated with the subscription.",
            fields=_line_item("The quantity of the product ordered.", sku=False),
        ),
        *flag_fields("subscription event"),
    ),
)

#: The lifecycle endpoints, in the document's order.
EVENT_TYPES: dict[str, EventType] = {
    event_type.name: event_type
    for event_type in (CART, PRODUCT, ORDER, CUSTOMER, USER, SUBSCRIPTION)
}
