"""Omnisend /v5/events: the document's `paid for order` example, custom events, identity,
deduplication, every validation error, limits, authentication and tenancy."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.ingest.entities import AddressEntity, LineItemEntity, OrderEntity
from cartwheel.models import Contact, Event
from cartwheel.stores.service import set_rate_limit
from cartwheel.wire.omnisend.schemas import CUSTOM_EVENT_EXAMPLE, PAID_FOR_ORDER_EXAMPLE
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of

URL = "/v5/events"
EMAIL = "john.smith@example.com"


def send(client: TestClient, store: StoreFixture, body: Any) -> Response:
    return client.post(URL, json=body, headers=store.headers)


def assert_accepted(response: Response) -> None:
    assert response.status_code == 202, response.text
    assert response.content == b""
    assert int(response.headers["X-RateLimit-Remaining"]) >= 0


def find_contact(client: TestClient, store: StoreFixture, **query: str) -> dict[str, Any]:
    """The one contact found by ``email`` (answered as a contact) or another filter (a page)."""
    found = json_of(client.get("/v1/contacts", params=query, headers=store.headers))
    if "email" in query:
        assert "id" in found, found
        return dict(found)
    assert found["totalCount"] == 1, found
    contact: dict[str, Any] = found["items"][0]
    return contact


def events_of(client: TestClient, store: StoreFixture, contact_id: int) -> list[dict[str, Any]]:
    page = json_of(client.get(f"/v1/contacts/{contact_id}/events", headers=store.headers))
    items: list[dict[str, Any]] = page["items"]
    return items


def stored(db: Database, store: StoreFixture) -> list[Event]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Event).where(Event.store_id == store.store_id).order_by(Event.id)
            )
        )


def paid_for_order(**properties: Any) -> dict[str, Any]:
    body = copy.deepcopy(PAID_FOR_ORDER_EXAMPLE)
    body["properties"].update(properties)
    return body


# -- the document's example ----------------------------------------------------------------

ADDRESS: AddressEntity = {
    "first_name": "John",
    "last_name": "Smith",
    "company": "SuperCompany",
    "address1": "123 Main Street",
    "address2": "123 A Main Street",
    "city": "AnyTown",
    "state": "California",
    "state_code": "CA",
    "zip": "90210",
    "country": "USA",
    "phone": "+443031237300",
}

ORDER: OrderEntity = {
    "id": "4122111",
    "number": "4122111",
    "currency": "EUR",
    "payment_status": "awaitingPayment",
    "fulfillment_status": "unfulfilled",
    "total_shipping": 2.5,
    "discount_codes": [{"code": "SUMMER20", "type": "-"}],
    "items": [
        {
            "product_id": "1",
            "variant_id": "123",
            "name": "The best product",
            "variant_name": "Full product title - Green",
            "sku": "200",
            "url": "https://example.com/product/232423",
            "image_url": "https://example.com/product/232423-variant-image.jpg",
            "vendor": "BestCompany",
            "categories": ["Shoes"],
            "price": 19.99,
            "quantity": 2,
            "discounts": 10,
            "weight": 20.4,
            "total": 39.98,
        }
    ],
    "billing_address": ADDRESS,
    "shipping_address": ADDRESS,
    "shipping_method": "Example Courier",
    "payment_method": "card",
    "note": "Please send it ASAP",
    "url": "https://example.com/orders",
    "tags": ["not-paid"],
    "tracking": {
        "courier_title": "Example Courier",
        "courier_url": "https://courier-example.com/track-order",
    },
    "created_at": "2023-11-10T07:00:00Z",
}


def test_the_documents_example_is_stored_as_a_paid_order(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    assert_accepted(send(client, store, PAID_FOR_ORDER_EXAMPLE))

    contact = find_contact(client, store, email=EMAIL)
    assert contact["source"] == "api"
    (event,) = events_of(client, store, contact["id"])
    assert (event["name"], event["category"], event["action"]) == (
        "paid for order",
        "order",
        "paid",
    )
    assert event["source"] == "api"
    assert datetime.fromisoformat(event["occurredAt"]) == datetime(2021, 7, 1, tzinfo=UTC)
    # No totalPrice: the value is the sum of the line items (19.99 × 2).
    assert (event["value"], event["currency"]) == (39.98, "EUR")
    assert event["properties"] == {
        "createdAt": "2023-11-10T07:00:00Z",
        "currency": "EUR",
        "fulfillmentStatus": "unfulfilled",
        "note": "Please send it ASAP",
        "orderID": "4122111",
        "orderNumber": "4122111",
        "orderStatusURL": "https://example.com/orders",
        "paymentMethod": "card",
        "paymentStatus": "awaitingPayment",
        "shippingMethod": "Example Courier",
        "shippingPrice": 2.5,
    }
    assert event["propertyTypes"]["createdAt"] == "date"
    assert event["propertyTypes"]["shippingPrice"] == "number"
    example = PAID_FOR_ORDER_EXAMPLE["properties"]
    assert event["extra"] == {
        key: example[key]
        for key in (
            "billingAddress",
            "discounts",
            "lineItems",
            "shippingAddress",
            "tags",
            "tracking",
        )
    }

    (row,) = stored(db, store)
    assert row.entity == ORDER


def test_the_order_record_uses_only_canonical_keys(
    db: Database, client: TestClient, store: StoreFixture
) -> None:
    assert_accepted(send(client, store, PAID_FOR_ORDER_EXAMPLE))
    (row,) = stored(db, store)
    entity = row.entity
    assert entity is not None
    assert set(entity) <= set(OrderEntity.__annotations__)
    assert set(entity["items"][0]) <= set(LineItemEntity.__annotations__)
    assert set(entity["billing_address"]) <= set(AddressEntity.__annotations__)


def test_total_price_is_the_value_and_the_order_total(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = paid_for_order(
        totalPrice=44.48,
        subTotalPrice=39.98,
        totalTax=2.0,
        totalDiscount=5,
        subTotalTaxIncluded=True,
        discounts=[{"amount": 5, "code": "FIVE", "type": "fixed"}],
        tracking={"code": "TRK1", "status": "shipped"},
    )
    assert_accepted(send(client, store, body))
    (row,) = stored(db, store)
    assert (row.value, row.currency) == (44.48, "EUR")
    assert row.entity is not None
    assert (row.entity["total"], row.entity["subtotal"], row.entity["total_tax"]) == (
        44.48,
        39.98,
        2.0,
    )
    assert row.entity["total_discounts"] == 5
    assert row.entity["discount_codes"] == [{"code": "FIVE", "amount": 5.0, "type": "fixed"}]
    assert row.entity["tracking"] == {"code": "TRK1", "status": "shipped"}
    assert row.properties["subTotalTaxIncluded"] is True


def test_an_order_without_prices_has_no_value(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {
        "eventName": "paid for order",
        "origin": "api",
        "eventVersion": "v2",
        "contact": {"email": "bare@example.com"},
        "properties": {"orderID": "o-1", "lineItems": [{"productID": "p"}]},
    }
    assert_accepted(send(client, store, body))
    (row,) = stored(db, store)
    assert row.value is None and row.currency is None
    assert row.entity == {"id": "o-1", "items": [{"product_id": "p"}]}


def test_other_event_names_are_custom_events(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    assert_accepted(send(client, store, CUSTOM_EVENT_EXAMPLE))
    contact = find_contact(client, store, email=EMAIL)
    assert contact["phone"] == "+443031237300"
    (event,) = events_of(client, store, contact["id"])
    assert (event["name"], event["category"], event["action"]) == ("my custom event", None, None)
    assert event["properties"] == {
        "plan": "premium",
        "renewsAt": "2026-01-01T00:00:00Z",
        "seats": 3,
    }
    assert event["propertyTypes"] == {"plan": "string", "renewsAt": "date", "seats": "number"}
    # The order table does not apply: any properties are stored as sent.
    free = {**CUSTOM_EVENT_EXAMPLE, "properties": {"lineItems": "x", "nested": {"a": [1]}}}
    assert_accepted(send(client, store, free))
    rows = stored(db, store)
    assert rows[1].entity is None
    assert rows[1].properties == {"lineItems": "x"}
    assert rows[1].extra == {"nested": {"a": [1]}}


def test_without_event_time_the_event_happened_now(client: TestClient, store: StoreFixture) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    body = {"eventName": "viewed", "origin": "api", "contact": {"email": "now@example.com"}}
    assert_accepted(send(client, store, body))
    (event,) = events_of(client, store, find_contact(client, store, email="now@example.com")["id"])
    assert datetime.fromisoformat(event["occurredAt"]) >= before


def test_event_time_in_the_space_separated_form(client: TestClient, store: StoreFixture) -> None:
    body = {
        "eventName": "viewed",
        "origin": "api",
        "eventTime": "2021-07-01 02:00:00+02:00",
        "contact": {"email": "space@example.com"},
    }
    assert_accepted(send(client, store, body))
    contact = find_contact(client, store, email="space@example.com")
    (event,) = events_of(client, store, contact["id"])
    assert datetime.fromisoformat(event["occurredAt"]) == datetime(2021, 7, 1, tzinfo=UTC)


# -- contact and identity ------------------------------------------------------------------


def test_contact_fields_are_applied_to_the_profile(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {
        "eventName": "signed up",
        "origin": "my-app",
        "contact": {
            "id": "67447b7d5c1cd54488ec24d9",
            "email": "Vanessa@Example.com",
            "phone": "+443031237300",
            "firstName": "Vanessa",
            "lastName": "Kensington",
            "birthdate": "1997-05-28",
            "gender": "f",
            "address": "9709 Highland Rd.",
            "city": "New York",
            "state": "NY",
            "postalCode": "08723",
            "country": "United States",
            "countryCode": "us",
            "customProperties": {"favoriteColors": ["red"], "memberSince": "2020-01-01"},
            "tags": ["vip"],
        },
    }
    assert_accepted(send(client, store, body))
    contact = find_contact(client, store, email="vanessa@example.com")
    assert contact["externalIds"] == ["67447b7d5c1cd54488ec24d9"]
    assert (contact["firstName"], contact["lastName"], contact["source"]) == (
        "Vanessa",
        "Kensington",
        "my-app",
    )
    assert contact["customFields"] == {
        "favoriteColors": ["red"],
        "memberSince": "2020-01-01T00:00:00Z",
        "birthdate": "1997-05-28",
        "gender": "f",
    }
    with db.read() as session:
        row = session.get(Contact, contact["id"])
        assert row is not None
        assert (row.address1, row.city, row.state, row.zip, row.country, row.country_code) == (
            "9709 Highland Rd.",
            "New York",
            "NY",
            "08723",
            "United States",
            "US",
        )


def test_contact_id_then_email_then_phone(client: TestClient, store: StoreFixture) -> None:
    first = {"eventName": "a", "origin": "api", "contact": {"id": "c-1", "email": "one@x.co"}}
    # The id wins: the second event is the same contact although its email is new.
    second = {"eventName": "b", "origin": "api", "contact": {"id": "c-1", "email": "two@x.co"}}
    by_phone = {"eventName": "c", "origin": "api", "contact": {"phone": "+1 206 555 0199"}}
    then_email = {
        "eventName": "d",
        "origin": "api",
        "contact": {"email": "one@x.co", "phone": "+12065550199"},
    }
    for body in (first, second, by_phone, then_email):
        assert_accepted(send(client, store, body))
    contact = find_contact(client, store, externalId="c-1")
    assert find_contact(client, store, email="two@x.co")["id"] == contact["id"]
    assert find_contact(client, store, phone="+12065550199")["id"] == contact["id"]
    names = sorted(e["name"] for e in events_of(client, store, contact["id"]))
    assert names == ["a", "b", "c", "d"]


# -- deduplication -------------------------------------------------------------------------


def test_event_id_with_event_time_is_stored_once(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = paid_for_order()
    body["eventID"] = "9afca57b-d157-478b-adde-b9506322b16f"
    assert_accepted(send(client, store, body))
    assert_accepted(send(client, store, body))
    # Same id, another time: another event. Same id, no time: never deduplicated.
    later = {**body, "eventTime": "2021-07-02T00:00:00Z"}
    assert_accepted(send(client, store, later))
    untimed = {k: v for k, v in body.items() if k != "eventTime"}
    assert_accepted(send(client, store, untimed))
    assert_accepted(send(client, store, untimed))
    assert len(stored(db, store)) == 4


# -- validation ----------------------------------------------------------------------------

CONTACT = {"email": "v@example.com"}
BASE: dict[str, Any] = {"eventName": "viewed", "origin": "api", "contact": CONTACT}


def _event(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BASE), **changes}


def _line(**fields: Any) -> dict[str, Any]:
    return paid_for_order(lineItems=[{"productID": "1", **fields}])


INVALID: list[tuple[Any, str, str]] = [
    ([BASE], "body", "'body' must be a JSON object"),
    ({"origin": "api", "contact": CONTACT}, "eventName", "'eventName' is required"),
    (_event(eventName=" "), "eventName", "'eventName' is required"),
    (_event(eventName=7), "eventName", "'eventName' must be a string"),
    (_event(eventName="e" * 301), "eventName", "'eventName' must be at most 300 characters"),
    ({"eventName": "viewed", "contact": CONTACT}, "origin", "'origin' is required"),
    (_event(origin=["api"]), "origin", "'origin' must be a string"),
    (_event(origin="o" * 201), "origin", "'origin' must be at most 200 characters"),
    (_event(eventVersion=2), "eventVersion", "'eventVersion' must be a string"),
    (
        _event(eventTime="July 1st"),
        "eventTime",
        "'eventTime' must be an ISO 8601 timestamp, e.g. 2021-07-01T00:00:00Z",
    ),
    (_event(eventID="not-a-uuid"), "eventID", "'eventID' must be a UUID"),
    (_event(eventID=12), "eventID", "'eventID' must be a UUID"),
    ({"eventName": "viewed", "origin": "api"}, "contact", "'contact' is required"),
    (_event(contact="v@example.com"), "contact", "'contact' must be an object"),
    (
        _event(contact={"firstName": "Al"}),
        "contact",
        "'contact' must have at least one of 'id', 'email' or 'phone'",
    ),
    (_event(contact={"id": 5}), "contact.id", "'contact.id' must be a string"),
    (
        _event(contact={"email": "nope"}),
        "contact.email",
        "'contact.email' must be a valid email address",
    ),
    (
        _event(contact={"phone": "123"}),
        "contact.phone",
        "'contact.phone' must be a valid phone number, e.g. +443031237300",
    ),
    (
        _event(contact={**CONTACT, "firstName": "F" * 51}),
        "contact.firstName",
        "'contact.firstName' must be at most 50 characters",
    ),
    (
        _event(contact={**CONTACT, "city": 3}),
        "contact.city",
        "'contact.city' must be a string",
    ),
    (
        _event(contact={**CONTACT, "birthdate": "28/05/1997"}),
        "contact.birthdate",
        "'contact.birthdate' must be a date as YYYY-MM-DD",
    ),
    (
        _event(contact={**CONTACT, "gender": "x"}),
        "contact.gender",
        "'contact.gender' must be one of: m, f",
    ),
    (
        _event(contact={**CONTACT, "customProperties": [1]}),
        "contact.customProperties",
        "'contact.customProperties' must be an object",
    ),
    (
        _event(contact={**CONTACT, "tags": "vip"}),
        "contact.tags",
        "'contact.tags' must be an array",
    ),
    (_event(properties=[1]), "properties", "'properties' must be an object"),
    # paid for order: the document's type table, field by field
    (
        paid_for_order(billingAddress="here"),
        "properties.billingAddress",
        "'properties.billingAddress' must be an object",
    ),
    *[
        (
            paid_for_order(**{address: {field: 1}}),
            f"properties.{address}.{field}",
            f"'properties.{address}.{field}' must be a string",
        )
        for address in ("billingAddress", "shippingAddress")
        for field in (
            "address1",
            "address2",
            "city",
            "company",
            "country",
            "firstName",
            "lastName",
            "phone",
            "state",
            "stateCode",
            "zip",
        )
    ],
    (
        paid_for_order(createdAt="last week"),
        "properties.createdAt",
        "'properties.createdAt' must be an ISO 8601 date string, e.g. 2023-11-10T07:00:00",
    ),
    (
        paid_for_order(createdAt=1699599600),
        "properties.createdAt",
        "'properties.createdAt' must be an ISO 8601 date string, e.g. 2023-11-10T07:00:00",
    ),
    (
        paid_for_order(currency="euro"),
        "properties.currency",
        "'properties.currency' must be a 3-letter ISO 4217 currency code, e.g. EUR",
    ),
    (
        paid_for_order(discounts={"code": "X"}),
        "properties.discounts",
        "'properties.discounts' must be an array",
    ),
    (
        paid_for_order(discounts=["SUMMER20"]),
        "properties.discounts[0]",
        "'properties.discounts[0]' must be an object",
    ),
    (
        paid_for_order(discounts=[{"amount": True}]),
        "properties.discounts[0].amount",
        "'properties.discounts[0].amount' must be a string or a number",
    ),
    (
        paid_for_order(discounts=[{"code": 20}]),
        "properties.discounts[0].code",
        "'properties.discounts[0].code' must be a string",
    ),
    (
        paid_for_order(discounts=[{"type": 1}]),
        "properties.discounts[0].type",
        "'properties.discounts[0].type' must be a string",
    ),
    (
        paid_for_order(lineItems={"productID": "1"}),
        "properties.lineItems",
        "'properties.lineItems' must be an array",
    ),
    (
        paid_for_order(lineItems=[1]),
        "properties.lineItems[0]",
        "'properties.lineItems[0]' must be an object",
    ),
    (
        _line(productCategories={"id": "1"}),
        "properties.lineItems[0].productCategories",
        "'properties.lineItems[0].productCategories' must be an array",
    ),
    (
        _line(productCategories=[{"id": 123}]),
        "properties.lineItems[0].productCategories[0].id",
        "'properties.lineItems[0].productCategories[0].id' must be a string",
    ),
    (
        _line(productCategories=[{"title": False}]),
        "properties.lineItems[0].productCategories[0].title",
        "'properties.lineItems[0].productCategories[0].title' must be a string",
    ),
    *[
        (
            _line(**{field: 1}),
            f"properties.lineItems[0].{field}",
            f"'properties.lineItems[0].{field}' must be a string",
        )
        for field in (
            "productDescription",
            "productID",
            "productImageURL",
            "productTitle",
            "productURL",
            "productVariantID",
            "productVariantImageURL",
            "productVariantTitle",
            "productVendor",
        )
    ],
    *[
        (
            _line(**{field: "10"}),
            f"properties.lineItems[0].{field}",
            f"'properties.lineItems[0].{field}' must be a number",
        )
        for field in (
            "productDiscount",
            "productPrice",
            "productQuantity",
            "productStrikeThroughPrice",
            "productWeight",
        )
    ],
    (
        _line(productQuantity=True),
        "properties.lineItems[0].productQuantity",
        "'properties.lineItems[0].productQuantity' must be a number",
    ),
    (
        _line(productPrice=10**400),
        "properties.lineItems[0].productPrice",
        "'properties.lineItems[0].productPrice' must be a number",
    ),
    (
        _line(productSKU=["200"]),
        "properties.lineItems[0].productSKU",
        "'properties.lineItems[0].productSKU' must be a string or a number",
    ),
    (
        _line(productTags="new"),
        "properties.lineItems[0].productTags",
        "'properties.lineItems[0].productTags' must be an array",
    ),
    (
        _line(productTags=[1]),
        "properties.lineItems[0].productTags[0]",
        "'properties.lineItems[0].productTags[0]' must be a string",
    ),
    *[
        (
            paid_for_order(**{field: 1}),
            f"properties.{field}",
            f"'properties.{field}' must be a string",
        )
        for field in (
            "fulfillmentStatus",
            "note",
            "orderID",
            "orderStatusURL",
            "paymentMethod",
            "paymentStatus",
            "shippingMethod",
        )
    ],
    (
        paid_for_order(orderNumber=[4122111]),
        "properties.orderNumber",
        "'properties.orderNumber' must be a string or a number",
    ),
    *[
        (
            paid_for_order(**{field: "1.00"}),
            f"properties.{field}",
            f"'properties.{field}' must be a number",
        )
        for field in ("shippingPrice", "subTotalPrice", "totalDiscount", "totalPrice", "totalTax")
    ],
    (
        paid_for_order(subTotalTaxIncluded="yes"),
        "properties.subTotalTaxIncluded",
        "'properties.subTotalTaxIncluded' must be a boolean",
    ),
    (paid_for_order(tags="not-paid"), "properties.tags", "'properties.tags' must be an array"),
    (paid_for_order(tags=[1]), "properties.tags[0]", "'properties.tags[0]' must be a string"),
    (
        paid_for_order(tracking="TRK"),
        "properties.tracking",
        "'properties.tracking' must be an object",
    ),
    *[
        (
            paid_for_order(tracking={field: 1}),
            f"properties.tracking.{field}",
            f"'properties.tracking.{field}' must be a string",
        )
        for field in ("code", "courierTitle", "courierURL", "status")
    ],
]


@pytest.mark.parametrize(("body", "field", "message"), INVALID)
def test_invalid_event_is_a_400_naming_the_field(
    client: TestClient, db: Database, store: StoreFixture, body: Any, field: str, message: str
) -> None:
    response = send(client, store, body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": message, "statusCode": 400, "fields": {field: [message]}}
    assert stored(db, store) == []


def test_every_invalid_field_is_listed_at_once(client: TestClient, store: StoreFixture) -> None:
    body = paid_for_order(currency=1, totalPrice="9", lineItems=[{"productPrice": "1"}])
    del body["origin"]
    body["contact"] = {"email": "bad"}
    answer = json_of(send(client, store, body))
    assert answer["error"] == "'origin' is required"
    assert list(answer["fields"]) == [
        "origin",
        "contact.email",
        "properties.currency",
        "properties.lineItems[0].productPrice",
        "properties.totalPrice",
    ]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "The request body is empty; a JSON object is expected."),
        (b"{", None),
    ],
)
def test_unreadable_body_is_a_400(
    client: TestClient, store: StoreFixture, content: bytes, error: str | None
) -> None:
    response = client.post(
        URL, content=content, headers={**store.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    answer = json_of(response)
    assert answer["statusCode"] == 400
    if error is not None:
        assert answer["error"] == error
    else:
        assert answer["error"].startswith("The request body is not valid JSON")


# -- limits --------------------------------------------------------------------------------


def test_limits_are_checked_before_any_work(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    many = _event(properties={f"p{i}": i for i in range(401)})
    answer = json_of(send(client, store, many))
    assert answer == {"error": "Too many properties: 401 (the limit is 400).", "statusCode": 400}
    long = paid_for_order(note="n" * (100 * 1024 + 1))
    answer = json_of(send(client, store, long))
    assert answer == {
        "error": "The string at properties.note exceeds 102400 bytes.",
        "statusCode": 400,
    }
    nul = _event(contact={"email": "v@example.com", "firstName": "A\x00"})
    answer = json_of(send(client, store, nul))
    assert answer["error"] == "The string at contact.firstName contains a NUL character."
    content = json.dumps(_event(properties={"blob": "x" * (5 * 1024 * 1024)})).encode()
    response = client.post(
        URL, content=content, headers={**store.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert json_of(response) == {
        "error": "The request body exceeds the 5242880 byte limit.",
        "statusCode": 413,
    }
    with db.read() as session:
        contacts = session.scalar(select(func.count()).where(Contact.store_id == store.store_id))
    assert contacts == 0 and stored(db, store) == []
    assert_accepted(send(client, store, _event(properties={f"p{i}": i for i in range(400)})))


# -- authentication, rate limits, tenancy --------------------------------------------------


def test_the_key_may_come_as_bearer_or_x_api_key(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = _event()
    assert_accepted(client.post(URL, json=body, headers={"X-API-KEY": store.api_key}))
    assert_accepted(client.post(URL, json=body, headers=store.headers))
    assert len(stored(db, store)) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-KEY": "cw_sk_wrong"},
        {"Authorization": "Bearer cw_sk_wrong"},
        {"X-API-KEY": ""},
    ],
)
def test_without_a_valid_key_it_is_a_401(
    client: TestClient, store: StoreFixture, headers: dict[str, str]
) -> None:
    response = client.post(URL, json=_event(), headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthenticated.", "statusCode": 401}


def test_over_the_stores_rate_limit_is_a_429(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    with db.transaction() as session:
        set_rate_limit(session, store.store_id, 1)
    assert_accepted(send(client, store, _event()))
    response = send(client, store, _event())
    assert response.status_code == 429
    assert response.json() == {"error": "Rate limit exceeded.", "statusCode": 429}
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == "1"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert len(stored(db, store)) == 1


def test_a_store_sees_nothing_of_another(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    body = paid_for_order()
    body["contact"] = {"id": "shared-id", "email": "a@example.com"}
    assert_accepted(send(client, store, body))
    mine = find_contact(client, store, externalId="shared-id")
    # The same contact id in another store is another person there.
    theirs_body = {"eventName": "viewed", "origin": "api", "contact": {"id": "shared-id"}}
    assert_accepted(send(client, other_store, theirs_body))
    theirs = find_contact(client, other_store, externalId="shared-id")
    assert theirs["id"] != mine["id"] and theirs["email"] is None
    assert [e["name"] for e in events_of(client, store, mine["id"])] == ["paid for order"]
    assert [e["name"] for e in events_of(client, other_store, theirs["id"])] == ["viewed"]
    nothing = client.get(
        "/v1/contacts", params={"email": "a@example.com"}, headers=other_store.headers
    )
    assert nothing.status_code == 404
    foreign = client.get(f"/v1/contacts/{mine['id']}/events", headers=other_store.headers)
    assert foreign.status_code == 404
    assert len(stored(db, store)) == 1 and len(stored(db, other_store)) == 1


# -- the OpenAPI document ------------------------------------------------------------------


def test_openapi_documents_the_endpoint_with_the_documents_example(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/v5/events"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    assert content["examples"]["paid_for_order"]["value"] == PAID_FOR_ORDER_EXAMPLE
    name = content["schema"]["$ref"].rsplit("/", 1)[1]
    schema = document["components"]["schemas"][name]
    assert schema["required"] == ["eventName", "origin", "contact"]
    assert all(p.get("description") for p in schema["properties"].values())
    assert set(operation["responses"]) >= {"202", "400", "401", "413", "429"}
    security = {name for entry in operation["security"] for name in entry}
    assert security == {"HTTPBearer", "APIKeyHeader"}
    order = document["components"]["schemas"]["OmnisendPaidForOrderProperties"]
    assert all(p.get("description") for p in order["properties"].values())


def test_the_paid_order_becomes_the_stores_order_record(
    client: TestClient, store: StoreFixture, worker: Worker
) -> None:
    assert_accepted(send(client, store, PAID_FOR_ORDER_EXAMPLE))
    worker.drain()
    contact = find_contact(client, store, email=EMAIL)
    (order,) = json_of(client.get("/v1/orders", headers=store.headers))["items"]
    assert (order["invoiceNo"], order["contactId"], order["paid"]) == (4122111, contact["id"], True)
    assert (order["total"], order["shippingAmount"]) == (39.98, 2.5)
    assert (order["shippingName"], order["paymentMethod"]) == ("Example Courier", "card")
    assert order["tags"] == ["not-paid"]
    assert len(order["items"]) == 1
