"""Control characters are refused in every identifier, code and name field of every wire
format (the canonical ingest checks them once, for every adapter); free-text property values
keep them."""

from __future__ import annotations

import copy
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.models import Event
from cartwheel.wire.omnisend.schemas import PAID_FOR_ORDER_EXAMPLE
from tests.conftest import StoreFixture

BAD = "a\r\nX-Injected: 1"


def _native(**fields: Any) -> dict[str, Any]:
    return {"name": "viewed", "contact": {"email": "n@example.com"}, **fields}


def _native_order(**entity: Any) -> dict[str, Any]:
    return _native(category="order", action="created", entity={"id": "o-1", **entity})


def _redo(**fields: Any) -> dict[str, Any]:
    return {"eventName": "viewed", "customer": {"email": "r@example.com"}, **fields}


def _omnisend(**properties: Any) -> dict[str, Any]:
    body = copy.deepcopy(PAID_FOR_ORDER_EXAMPLE)
    body["properties"].update(properties)
    return body


def _lindris_order(**fields: Any) -> dict[str, Any]:
    return {"email": "l@example.com", "source": "woo", "id": "order_1", **fields}


def _voucherify(**customer: Any) -> dict[str, Any]:
    return {"event": "viewed", "customer": {"email": "v@example.com", **customer}}


# (format, path, body): each puts BAD in one identifier, code or name field.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("native", "/v1/events", _native(name=BAD)),
    ("native", "/v1/events", _native(source=BAD)),
    ("native", "/v1/events", _native(dedupKey=BAD)),
    ("native", "/v1/events", _native(contact={"externalId": BAD})),
    ("native", "/v1/events", _native_order(id=BAD)),
    ("native", "/v1/events", _native_order(items=[{"sku": BAD}])),
    ("native", "/v1/events", _native_order(billing_address={"city": BAD})),
    ("redo", "/stores/{store}/events", _redo(eventName=BAD)),
    ("redo", "/stores/{store}/events", _redo(uniqueId=BAD)),
    ("redo", "/stores/{store}/events", _redo(customer={"id": BAD})),
    ("redo", "/stores/{store}/events", _redo(customer={"email": "r@x.example", "firstName": BAD})),
    ("omnisend", "/v5/events", {**_omnisend(), "eventName": BAD}),
    ("omnisend", "/v5/events", _omnisend(orderID=BAD)),
    ("omnisend", "/v5/events", _omnisend(paymentMethod=BAD)),
    ("omnisend", "/v5/events", {**_omnisend(), "contact": {"id": BAD}}),
    ("lindris", "/api/events", {"eventName": BAD, "email": "l@example.com", "source": "s"}),
    ("lindris", "/api/events", {"eventName": "e", "referenceId": BAD, "source": "s"}),
    ("lindris", "/api/events/order/created", _lindris_order(id=BAD)),
    ("lindris", "/api/events/order/created", _lindris_order(source=BAD)),
    ("lindris", "/api/events/order/created", _lindris_order(payment_gateway=BAD)),
    ("lindris", "/api/events/product/created", _lindris_order(sku=BAD)),
    ("voucherify", "/client/v1/events", {**_voucherify(), "event": BAD}),
    ("voucherify", "/client/v1/events", _voucherify(source_id=BAD)),
    ("voucherify", "/client/v1/events", _voucherify(name=BAD)),
    ("voucherify", "/client/v1/events", _voucherify(address={"city": BAD})),
]


def _post(
    client: TestClient, store: StoreFixture, wire: str, path: str, body: dict[str, Any]
) -> Response:
    if wire == "voucherify":
        return client.post(path, json=body, headers=store.client_headers())
    if wire == "omnisend":
        body = {**body, "eventID": str(uuid5(NAMESPACE_URL, repr(body)))}
    return client.post(path.format(store=store.store_id), json=body, headers=store.headers)


def _stored(db: Database, store: StoreFixture) -> int:
    with db.read() as session:
        count = session.scalar(
            select(func.count()).select_from(Event).where(Event.store_id == store.store_id)
        )
    return int(count or 0)


@pytest.mark.parametrize(
    ("wire", "path", "body"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
@pytest.mark.parametrize("bad", [BAD, "a\x00b", "a\tb", "a\x7fb", "a\u2028b"], ids=repr)
def test_control_characters_are_refused(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    wire: str,
    path: str,
    body: dict[str, Any],
    bad: str,
) -> None:
    body = _replace(body, bad)
    response = _post(client, store, wire, path, body)
    assert 400 <= response.status_code < 500, response.text
    assert _stored(db, store) == 0


@pytest.mark.parametrize("value", ["line one\r\nline two", "tab\tseparated", "a\u2028b"])
def test_free_text_property_values_keep_control_characters(
    client: TestClient, db: Database, store: StoreFixture, value: str
) -> None:
    body = _native_order(note=value, description=value)
    body["properties"] = {"comment": value, "nested": {"text": value}}
    response = _post(client, store, "native", "/v1/events", body)
    assert response.status_code < 300, response.text
    with db.read() as session:
        event = session.scalars(select(Event).where(Event.store_id == store.store_id)).one()
    assert event.properties["comment"] == value
    assert event.extra["nested"] == {"text": value}
    assert event.entity is not None and event.entity["note"] == value


def _replace(value: Any, bad: str) -> Any:
    if value == BAD:
        return bad
    if isinstance(value, dict):
        return {k: _replace(v, bad) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, bad) for v in value]
    return value


@pytest.mark.parametrize("currency", ["DOLLARS", "US", "U$D", 5])
def test_a_record_currency_is_a_three_letter_code(
    client: TestClient, db: Database, store: StoreFixture, currency: object
) -> None:
    response = _post(client, store, "native", "/v1/events", _native_order(currency=currency))
    assert response.status_code == 422, response.text
    assert "entity.currency" in response.text
    assert _stored(db, store) == 0
    ok = _post(client, store, "native", "/v1/events", _native_order(currency="eur"))
    assert ok.status_code < 300, ok.text
