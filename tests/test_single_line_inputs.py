"""The store data API's input-only single-line fields (orders, product variants and options,
form field names, bookings' nested objects): a control character is a 422 naming the field,
while a stored (legacy) row holding one still reads: output models never check."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cartwheel.db import Database
from cartwheel.models import Booking, FormSubmission, Order, Product
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import error
from tests.orders.test_orders import first_order, place

BAD = "a\r\nX-Injected: 1"
START = 1_900_000_000
BOOKING = {"eventId": 1, "email": "guest@example.com", "start": START, "end": START + 1800}
PRODUCT = {"type": "physical", "title": "Door"}
FORM = "/v1/forms/contact/submissions"

# (method, path, body, field): one control character in one input-only field each.
CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("PUT", "/v1/orders/{order}", {"paymentMethod": BAD}, "paymentMethod"),
    ("PUT", "/v1/orders/{order}", {"transactionId": BAD}, "transactionId"),
    ("PUT", "/v1/orders/{order}", {"customerName": BAD}, "customerName"),
    ("PUT", "/v1/orders/{order}", {"fulfillment": {"courier": BAD}}, "fulfillment.courier"),
    ("PUT", "/v1/orders/{order}", {"fulfillment": {"trackingNo": BAD}}, "fulfillment.trackingNo"),
    ("PUT", "/v1/orders/{order}", {"billingAddress": {"city": BAD}}, "billingAddress.city"),
    ("PUT", "/v1/orders/{order}", {"shippingAddress": {"name": BAD}}, "shippingAddress.name"),
    ("POST", "/v1/products", {**PRODUCT, "variants": [{"sku": BAD}]}, "variants.0.sku"),
    ("POST", "/v1/products", {**PRODUCT, "options": [{"name": BAD}]}, "options.0.name"),
    ("POST", FORM, {"fields": [{"name": BAD, "value": "v"}]}, "fields.0.name"),
    ("POST", "/v1/bookings", {**BOOKING, "eventData": {"name": BAD}}, "eventData.name"),
    ("POST", "/v1/bookings", {**BOOKING, "operator": {"name": BAD}}, "operator.name"),
    ("POST", "/v1/bookings", {**BOOKING, "service": {"name": BAD}}, "service.name"),
    (
        "POST",
        "/v1/bookings",
        {**BOOKING, "formAnswers": [{"name": BAD, "value": "multi\nline is fine"}]},
        "formAnswers.0.name",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES, ids=[c[3] for c in CASES])
def test_control_characters_are_refused_on_input(
    client: TestClient,
    runtime: Runtime,
    worker: Worker,
    store: StoreFixture,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    if "{order}" in path:
        place(runtime, worker, store)
        path = path.format(order=first_order(client, store)["id"])
    headers = store.client_headers() if path == FORM else store.headers
    response = client.request(method, path, json=body, headers=headers)
    message = f"The {field} field must not contain control characters."
    assert error(response, 422) == message, response.text
    assert json_of(response)["errors"] == {field: [message]}


def test_legacy_rows_with_control_characters_still_read(
    client: TestClient, db: Database, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    headers = store.headers
    place(runtime, worker, store)
    order_id = first_order(client, store)["id"]
    product = client.post(
        "/v1/products",
        json={**PRODUCT, "options": [{"name": "Size", "values": ["L"]}], "variants": [{}]},
        headers=headers,
    )
    assert product.status_code < 300, product.text
    product_id = json_of(product)["id"]
    booking = client.post(
        "/v1/bookings",
        json={
            **BOOKING,
            "eventData": {"name": "Call"},
            "formAnswers": [{"name": "q", "value": ""}],
        },
        headers=headers,
    )
    assert booking.status_code == 201, booking.text
    form = client.post(
        FORM, json={"fields": [{"name": "msg", "value": "hi"}]}, headers=store.client_headers()
    )
    assert form.status_code < 300, form.text

    with db.transaction() as session:
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(
                payment_method=BAD,
                transaction_id=BAD,
                customer_name=BAD,
                billing_address={"name": BAD, "city": BAD},
                fulfillment={"courier": BAD, "trackingNo": BAD},
            )
        )
        session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(
                options=[{"name": BAD, "values": [BAD], "advanced": False}],
                variants=[{"options": [BAD], "sku": BAD}],
            )
        )
        session.execute(
            update(Booking)
            .where(Booking.store_id == store.store_id)
            .values(event_data={"name": BAD}, form_answers=[{"name": BAD, "value": BAD}])
        )
        session.execute(
            update(FormSubmission)
            .where(FormSubmission.store_id == store.store_id)
            .values(fields=[{"name": BAD, "value": BAD}])
        )

    order = client.get(f"/v1/orders/{order_id}", headers=headers)
    assert order.status_code == 200, order.text
    assert json_of(order)["paymentMethod"] == BAD
    assert json_of(order)["billingAddress"]["city"] == BAD
    assert client.get("/v1/orders", headers=headers).status_code == 200
    read = client.get(f"/v1/products/{product_id}", headers=headers)
    assert read.status_code == 200, read.text
    assert json_of(read)["variants"][0]["sku"] == BAD
    assert json_of(read)["options"][0]["name"] == BAD
    bookings = client.get("/v1/bookings", headers=headers)
    assert bookings.status_code == 200, bookings.text
    assert json_of(bookings)["items"][0]["eventData"]["name"] == BAD
    submissions = client.get("/v1/form-submissions", headers=headers)
    assert submissions.status_code == 200, submissions.text
    assert json_of(submissions)["items"][0]["fields"][0]["name"] == BAD
