"""Mapping a Voucherify client event to the canonical event."""

from __future__ import annotations

from typing import Any

import msgspec

from cartwheel.identity.addresses import (
    is_valid_email,
    normalize_email,
    normalize_external_id,
    normalize_phone,
)
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.properties import split_properties
from cartwheel.wire.voucherify.errors import invalid_customer
from cartwheel.wire.voucherify.schemas import ClientEvent, Customer

SOURCE = "voucherify"


def to_canonical(store_id: int, payload: ClientEvent) -> CanonicalEvent:
    customer = payload.customer
    assert customer is not None  # decode() refused a request without one
    hints = IdentityHints()
    # Voucherify's order: its own customer id, then the source id (ignored for lookup when
    # an id is given, but still saved on the customer), then email; phone last.
    hints.add("contact_uuid", customer.id)
    hints.add("external", normalize_external_id(customer.source_id))
    if customer.email is not None:
        email = normalize_email(customer.email)
        if email is None or not is_valid_email(email):
            raise invalid_customer("Property .customer.email must be a valid email address.")
        hints.add("email", email)
    # Voucherify accepts any phone text; only a possible number can identify someone.
    hints.add("phone", normalize_phone(customer.phone))
    if not hints.identifiers:
        raise invalid_customer("Customer must have an id, a source_id or an email.")
    extra: dict[str, Any] = {}
    if payload.referral is not None:
        extra["$referral"] = msgspec.to_builtins(payload.referral)
    if payload.loyalty is not None:
        extra["$loyalty"] = msgspec.to_builtins(payload.loyalty)
    split = split_properties(payload.metadata or {}, extra)
    return CanonicalEvent(
        store_id=store_id,
        name=payload.event,
        identity=hints,
        source=SOURCE,
        profile=_profile(customer),
        properties=split.properties,
        property_types=split.property_types,
        extra=split.extra,
    )


def _profile(customer: Customer) -> ProfilePatch:
    fields: dict[str, Any] = {"name": customer.name}
    if customer.address is not None:
        address = customer.address
        fields |= {
            "address1": address.line_1,
            "address2": address.line_2,
            "city": address.city,
            "state": address.state,
            "zip": address.postal_code,
            "country": address.country,
        }
    return ProfilePatch(
        fields={k: v for k, v in fields.items() if v is not None},
        custom_fields=dict(customer.metadata or {}),
        source=SOURCE,
    )
