"""The product and category shapes of the store data API. Field names are the document's
(camelCase); the same shapes are the payloads of the ``product_*`` webhooks."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from cartwheel.text import SINGLE_LINE

ProductType = Literal["physical", "digital", "service", "membership"]
PRODUCT_TYPES: tuple[str, ...] = ("physical", "digital", "service", "membership")


# The document's examples, used in the OpenAPI document and as tests.
CATEGORY_EXAMPLE: dict[str, Any] = {"id": 1, "name": "Doors", "url": "doors", "parentCategory": 0}

PRODUCT_WRITE_EXAMPLE: dict[str, Any] = {
    "type": "physical",
    "title": "Interior Door",
    "description": "string",
    "url": "interior-door",
    "hidden": True,
    "categories": [CATEGORY_EXAMPLE],
    "options": [{"name": "Material", "values": ["Wood", "Glass"], "advanced": True}],
    "variants": [
        {
            "options": ["Wood", "Single"],
            "price": 199,
            "onSale": True,
            "regularPrice": 0,
            "salePrice": 0,
            "quantity": 0,
            "sku": "D-001",
            "weight": 0,
        }
    ],
    "subscription": {"cycles": 0, "period": 0, "periodUnit": "WEEKLY"},
}

PRODUCT_EXAMPLE: dict[str, Any] = {
    "id": 111,
    **PRODUCT_WRITE_EXAMPLE,
    "images": [],
    "file": None,
}


def _check_uri(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PydanticCustomError("invalid", "must be an absolute http(s) URL")
    return value


Uri = Annotated[str, AfterValidator(_check_uri), Field(json_schema_extra={"format": "uri"})]


class Category(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [CATEGORY_EXAMPLE]})

    id: int = Field(description="Unique identifier.", examples=[1])
    name: str = Field(description="Category name.", examples=["Doors"])
    url: str = Field(description="The category URL (handle) in your store.", examples=["doors"])
    parentCategory: int = Field(
        description="Id of the parent category; 0 for a top-level category.", examples=[0]
    )


class CategoryRef(BaseModel):
    """A category of a product being written: an existing one by ``id``, or one found by
    ``url`` or ``name`` (and created, under ``parentCategory``, when there is none)."""

    id: int | None = Field(default=None, description="Id of an existing category.")
    name: str | None = Field(default=None, max_length=300, description="Category name.")
    url: str | None = Field(default=None, max_length=300, description="Category URL (handle).")
    parentCategory: int | None = Field(
        default=None, description="Parent of a category created here; 0 or omitted = top level."
    )

    @model_validator(mode="after")
    def _names_something(self) -> CategoryRef:
        if not self.id and not self.name and not self.url:
            raise PydanticCustomError("invalid", "needs an id, a name or a url")
        return self


class CategoryCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=300), SINGLE_LINE] = Field(
        description="Category name.", examples=["Doors"]
    )
    url: Annotated[str, Field(max_length=300), SINGLE_LINE] | None = Field(
        default=None,
        description="The category URL (handle); made from the name when omitted.",
        examples=["doors"],
    )
    parentCategory: int | None = Field(
        default=None, description="Id of the parent category; 0 or omitted = top level."
    )


class ProductOption(BaseModel):
    name: str = Field(description="Option name.", examples=["Material"])
    values: list[str] = Field(
        default_factory=list, description="The option's values.", examples=[["Wood", "Glass"]]
    )
    advanced: bool = Field(default=False, description="Whether this is an advanced option.")


class ProductVariant(BaseModel):
    options: list[str] = Field(
        default_factory=list,
        description="One value per product option, in the options' order.",
        examples=[["Wood", "Single"]],
    )
    price: float = Field(default=0, description="Price of the variant.", examples=[199])
    onSale: bool = Field(default=False, description="Whether the variant is on sale.")
    regularPrice: float = Field(default=0, description="Price before the sale.")
    salePrice: float = Field(default=0, description="Price while on sale.")
    quantity: int = Field(default=0, description="Quantity in stock.")
    sku: str = Field(default="", description="Stock keeping unit.", examples=["D-001"])
    weight: float = Field(default=0, description="Weight of one unit.")


class ProductOptionInput(ProductOption):
    """A product option to set: its name and values are single-line (stored options are
    shown as they are)."""

    name: Annotated[str, SINGLE_LINE] = Field(description="Option name.", examples=["Material"])
    values: list[Annotated[str, SINGLE_LINE]] = Field(
        default_factory=list, description="The option's values.", examples=[["Wood", "Glass"]]
    )


class ProductVariantInput(ProductVariant):
    """A variant to set: its SKU and option values are single-line (stored variants are
    shown as they are)."""

    options: list[Annotated[str, SINGLE_LINE]] = Field(
        default_factory=list,
        description="One value per product option, in the options' order.",
        examples=[["Wood", "Single"]],
    )
    sku: Annotated[str, SINGLE_LINE] = Field(
        default="", description="Stock keeping unit.", examples=["D-001"]
    )


class Subscription(BaseModel):
    """Subscription details for a subscription product."""

    cycles: int = Field(default=0, description="Number of billing cycles; 0 = until cancelled.")
    period: int = Field(default=1, description="Length of one billing cycle, in periodUnit.")
    periodUnit: str = Field(
        default="MONTHLY", description="Unit of the billing period.", examples=["WEEKLY"]
    )


class ProductWrite(BaseModel):
    type: ProductType = Field(description="The type of the product.")
    title: Annotated[str, Field(min_length=1, max_length=500), SINGLE_LINE] = Field(
        description="Product title.", examples=["Interior Door"]
    )
    description: str | None = Field(
        default=None, description="Supports light HTML formatting.", examples=["string"]
    )
    url: Annotated[str, Field(max_length=1000), SINGLE_LINE] | None = Field(
        default=None,
        description="The product URL (handle) in your store; made from the title when omitted.",
        examples=["interior-door"],
    )
    hidden: bool | None = Field(
        default=None, description="Whether the product is hidden in your store front."
    )
    images: list[Uri] | None = Field(default=None, description="Image URLs.")
    categories: list[CategoryRef] | None = Field(
        default=None, description="Categories of the product."
    )
    options: list[ProductOptionInput] | None = Field(default=None, description="Product options.")
    variants: list[ProductVariantInput] | None = Field(
        default=None, description="Variants (a combination of option values each)."
    )
    subscription: Subscription | None = Field(
        default=None, description="Subscription details for a subscription product."
    )
    file: Uri | None = Field(
        default=None,
        max_length=2000,
        description="Digital products only - URL of the digital file being sold.",
    )


class ProductCreate(ProductWrite):
    """A product to create."""


class ProductUpdate(ProductWrite):
    """Only non-empty fields or provided variants are set."""


class Product(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PRODUCT_EXAMPLE]})

    id: int = Field(description="Unique identifier.", examples=[111])
    type: ProductType = Field(description="The type of the product.")
    title: str = Field(description="Product title.", examples=["Interior Door"])
    description: str = Field(description="Supports light HTML formatting.")
    url: str = Field(description="The product URL (handle) in your store.")
    hidden: bool = Field(description="Whether the product is hidden in your store front.")
    images: list[str] = Field(description="Image URLs.")
    categories: list[Category] = Field(description="Categories of the product.")
    options: list[ProductOption] = Field(description="Product options.")
    variants: list[ProductVariant] = Field(description="Variants of the product.")
    subscription: Subscription | None = Field(
        description="Subscription details for a subscription product (null otherwise)."
    )
    file: str | None = Field(
        description="Digital products only - URL of the digital file being sold."
    )
