"""Members, member groups and single sign-on as the store data API shows and accepts them.
A member's password is write-only: no schema here can carry it out."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from cartwheel import models
from cartwheel.identity.addresses import Email
from cartwheel.kit.requests import Id, to_unix
from cartwheel.text import SINGLE_LINE, check_single_line

ADDRESS_EXAMPLE: dict[str, Any] = {
    "name": "string",
    "phone": "string",
    "companyName": "string",
    "companyId": "string",
    "country": "string",
    "state": "string",
    "city": "string",
    "zipCode": "string",
    "address": "string",
    "address2": "string",
}
MEMBER_EXAMPLE: dict[str, Any] = {
    "id": 123,
    "name": "John Doe",
    "email": "john@doe.com",
    "groups": [59, 98],
    "registeredOn": 1587489771,
    "approved": True,
    "contactId": 147,
    "billingAddress": ADDRESS_EXAMPLE,
    "shippingAddress": ADDRESS_EXAMPLE,
}
MEMBER_REQUEST_EXAMPLE: dict[str, Any] = {
    "name": "John Doe",
    "email": "john@doe.com",
    "password": "my-password",
    "groups": [0],
    "approved": True,
    "billingAddress": ADDRESS_EXAMPLE,
    "shippingAddress": ADDRESS_EXAMPLE,
}
GROUP_EXAMPLE: dict[str, Any] = {"id": 1, "name": "Basic Members", "link": ""}
GROUP_REQUEST_EXAMPLE: dict[str, Any] = {"name": "New group", "link": ""}
SSO_REQUEST_EXAMPLE: dict[str, Any] = {
    "email": "john@doe.com",
    "path": "/protected-member-only-page",
}
SSO_TOKEN_EXAMPLE: dict[str, Any] = {
    "token": "xxxxx.xxxxx.xxxxx",
    "createdAt": 1605283421,
    "expiresAt": 1605284321,
    "accessUrl": "https://cartwheel.example.com/v1/members/sso/redeem?token=xxxxx.xxxxx.xxxxx",
}

ADDRESS_FIELDS = (
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


class Address(BaseModel):
    """A billing or shipping address."""

    model_config = ConfigDict(json_schema_extra={"examples": [ADDRESS_EXAMPLE]})

    name: str | None = Field(default=None, max_length=300, description="Full name.")
    phone: str | None = Field(default=None, max_length=50, description="Phone.")
    companyName: str | None = Field(default=None, max_length=300, description="Company name.")
    companyId: str | None = Field(
        default=None, max_length=100, description="Company registration or tax id."
    )
    country: str | None = Field(default=None, max_length=200, description="Country.")
    state: str | None = Field(default=None, max_length=200, description="State or region.")
    city: str | None = Field(default=None, max_length=200, description="City.")
    zipCode: str | None = Field(default=None, max_length=40, description="Postal code.")
    address: str | None = Field(default=None, max_length=500, description="Street address.")
    address2: str | None = Field(default=None, max_length=500, description="Address line 2.")


class Member(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [MEMBER_EXAMPLE]})

    id: int = Field(description="Unique identifier.")
    name: str = Field(description="Member name.")
    email: str = Field(description="Email address (lower-cased); the member's login.")
    groups: list[int] = Field(description="Ids of the member groups the member belongs to.")
    registeredOn: int = Field(description="When the member registered, in Unix seconds.")
    approved: bool = Field(description="Whether the member may sign in.")
    contactId: int | None = Field(
        description="The member's contact (null if that contact was deleted)."
    )
    billingAddress: Address | None = Field(description="Billing address, if any.")
    shippingAddress: Address | None = Field(description="Shipping address, if any.")


class MemberCreate(BaseModel):
    """Create a member. With a password, the member can sign in with it; without one, a
    random password is set and a password-reset email is requested for the member."""

    model_config = ConfigDict(json_schema_extra={"examples": [MEMBER_REQUEST_EXAMPLE]})

    name: Annotated[str, Field(min_length=1, max_length=300), SINGLE_LINE] = Field(
        description="Member name."
    )
    email: Email = Field(description="Email address; unique among the store's members.")
    password: str | None = Field(
        default=None,
        min_length=8,
        max_length=200,
        description="Optional (8 to 200 characters). If omitted, a random password is set and "
        "a reset email is sent. Ignored on update. Never returned.",
    )
    groups: list[Id] | None = Field(
        default=None,
        max_length=100,
        description="Ids of the member groups; replaces the member's groups. 0 means no group "
        "(so `[0]` leaves the member in none).",
    )
    approved: bool | None = Field(
        default=None, description="Whether the member may sign in (default true)."
    )
    billingAddress: Address | None = Field(default=None, description="Billing address.")
    shippingAddress: Address | None = Field(default=None, description="Shipping address.")


# The document marks name and email required on update as well; an empty name is allowed
# (and ignored) under its "only non-empty fields are set" rule.
class MemberUpdate(MemberCreate):
    """Update a member: only non-empty fields are set (empty strings, nulls and empty arrays
    leave the stored value alone; address fields are merged one by one). The password is
    NOT updated."""

    name: Annotated[str, Field(max_length=300), SINGLE_LINE] = Field(
        description="Member name (empty: left as it is)."
    )
    password: str | None = Field(default=None, description="Ignored on update.")


def _check_path(value: str) -> str:
    # Only a path on the member area's own site: no scheme, no other host ("//evil.com").
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        raise PydanticCustomError("invalid", "must be a path starting with /")
    return check_single_line(value)  # it is echoed at redeem


class SsoRequest(BaseModel):
    """Sign a member on: answers a token and an access URL, valid for 15 minutes, one use."""

    model_config = ConfigDict(json_schema_extra={"examples": [SSO_REQUEST_EXAMPLE]})

    email: Email = Field(description="The member's email address.")
    path: Annotated[str, AfterValidator(_check_path)] | None = Field(
        default=None,
        max_length=2000,
        description="Optional. Direct the member to this page (a path) after sign-on.",
    )


class SsoToken(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SSO_TOKEN_EXAMPLE]})

    token: str = Field(description="The signed sign-on token (one use).")
    createdAt: int = Field(description="When it was issued, in Unix seconds.")
    expiresAt: int = Field(description="When it expires (15 minutes later), in Unix seconds.")
    accessUrl: str = Field(description="Redirect the member here to sign them on.")


class SsoSession(BaseModel):
    """Who a redeemed sign-on token signs on, and where to send them."""

    member: Member = Field(description="The signed-on member.")
    path: str | None = Field(description="The page to show first, if one was asked for.")


class MemberGroup(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [GROUP_EXAMPLE]})

    id: int = Field(description="Unique identifier.")
    name: str = Field(description="Group name.")
    link: str = Field(description="Link of the group's page (may be empty).")


class MemberGroupCreate(BaseModel):
    """Create a member group."""

    model_config = ConfigDict(json_schema_extra={"examples": [GROUP_REQUEST_EXAMPLE]})

    name: Annotated[str, Field(min_length=1, max_length=200), SINGLE_LINE] = Field(
        description="Group name."
    )
    link: str | None = Field(default=None, max_length=2000, description="Link (may be empty).")


class MemberGroupUpdate(MemberGroupCreate):
    """Update a member group: its name, and its link when one is supplied."""


def address_view(stored: dict[str, Any] | None) -> Address | None:
    if not stored:
        return None
    return Address(**{key: stored.get(key) for key in ADDRESS_FIELDS})


def member_view(row: models.Member, group_ids: list[int]) -> Member:
    return Member(
        id=row.id,
        name=row.name,
        email=row.email,
        groups=group_ids,
        registeredOn=to_unix(row.created_at),
        approved=row.approved,
        contactId=row.contact_id,
        billingAddress=address_view(row.billing_address),
        shippingAddress=address_view(row.shipping_address),
    )


def group_view(row: models.MemberGroup) -> MemberGroup:
    return MemberGroup(id=row.id, name=row.name, link=row.link)
