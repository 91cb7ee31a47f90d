"""POST /v1/events: the documented examples, identity priority, the stored event, dedup,
test/silent events, validation messages, limits, auth and tenancy."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.models import Contact, ContactIdentifier, Event
from cartwheel.wire.native.schemas import EVENT_EXAMPLES
from tests.conftest import StoreFixture, json_of


def send(client: TestClient, store: StoreFixture, body: Any) -> Response:
    return client.post("/v1/events", json=body, headers=store.headers)


def accepted(client: TestClient, store: StoreFixture, body: Any) -> dict[str, Any]:
    response = send(client, store, body)
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    return result


def event_row(db: Database, event_id: str) -> Event:
    with db.read() as session:
        row = session.get(Event, uuid.UUID(event_id))
        assert row is not None
        return row


def contact_row(db: Database, store: StoreFixture, email: str) -> Contact:
    with db.read() as session:
        return session.scalars(
            select(Contact).where(Contact.store_id == store.store_id, Contact.email == email)
        ).one()


def external_ids(db: Database, contact_id: int) -> list[str]:
    with db.read() as session:
        rows = session.scalars(
            select(ContactIdentifier.value).where(
                ContactIdentifier.contact_id == contact_id, ContactIdentifier.kind == "external"
            )
        )
        return list(rows)


def stored_count(db: Database, store: StoreFixture) -> int:
    with db.read() as session:
        count = session.scalar(select(func.count()).where(Event.store_id == store.store_id))
    return int(count or 0)


# -- the documented examples -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EVENT_EXAMPLES))
def test_every_documented_example_is_accepted(
    client: TestClient, store: StoreFixture, name: str
) -> None:
    body = copy.deepcopy(EVENT_EXAMPLES[name]["value"])
    result = accepted(client, store, body)
    assert set(result) == {"id", "contactId", "contactUuid", "receivedAt", "duplicate"}
    assert result["duplicate"] is False
    if body.get("test"):
        assert result["id"] is None
    else:
        assert uuid.UUID(result["id"]) and isinstance(result["contactId"], int)


def test_the_stored_event_carries_every_field(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    result = accepted(
        client,
        store,
        {
            "name": "Placed Order",
            "occurredAt": "2026-04-02T14:00:00+02:00",
            "source": "woocommerce",
            "contact": {"email": "Ann@Example.com"},
            "properties": {"total": 59.9, "paidAt": "2026-04-02", "items": [{"sku": "a"}]},
            "value": 59.9,
            "currency": "eur",
            "category": "order",
            "action": "completed",
            "entity": {"id": "5001", "total": 59, "unknown": "dropped"},
            "silent": True,
        },
    )
    row = event_row(db, result["id"])
    assert row.store_id == store.store_id and row.contact_id == result["contactId"]
    assert row.name == "Placed Order" and row.source == "woocommerce"
    assert row.occurred_at.isoformat() == "2026-04-02T12:00:00+00:00"
    assert row.properties == {"total": 59.9, "paidAt": "2026-04-02T00:00:00Z"}
    assert row.property_types == {"total": "number", "paidAt": "date"}
    assert row.extra == {"items": [{"sku": "a"}]}
    assert (row.value, row.currency) == (59.9, "EUR")
    assert (row.category, row.action) == ("order", "completed")
    assert row.entity == {"id": "5001", "total": 59.0}
    assert row.silent is True
    assert contact_row(db, store, "ann@example.com").source == "woocommerce"


def test_occurred_at_defaults_to_now_and_naive_times_are_utc(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    now = accepted(client, store, {"name": "a", "contact": {"email": "t@example.com"}})
    assert event_row(db, now["id"]).occurred_at.isoformat() == now["receivedAt"].replace(
        "Z", "+00:00"
    )
    naive = accepted(
        client,
        store,
        {"name": "a", "occurredAt": "2026-01-02T03:04:05", "contact": {"email": "t@example.com"}},
    )
    assert event_row(db, naive["id"]).occurred_at.isoformat() == "2026-01-02T03:04:05+00:00"


def test_profile_fields_and_custom_fields_patch_the_contact(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    accepted(
        client,
        store,
        {
            "name": "Signed Up",
            "contact": {
                "email": "bo@example.com",
                "firstName": "Bo",
                "customFields": {"tier": "gold"},
            },
        },
    )
    accepted(
        client,
        store,
        {
            "name": "Updated",
            "contact": {
                "email": "bo@example.com",
                "lastName": "Lee",
                "name": "Bo Lee",
                "customFields": {"age": 30},
                "phone": "(555) 123-0001",
                "externalId": 42,
            },
        },
    )
    contact = contact_row(db, store, "bo@example.com")
    assert (contact.first_name, contact.last_name, contact.name) == ("Bo", "Lee", "Bo Lee")
    assert contact.custom_fields == {"tier": "gold", "age": 30}
    assert contact.phone == "+15551230001"
    assert external_ids(db, contact.id) == ["42"]


# -- identity priority: id → uuid → externalId → email → phone ------------------------------


def test_identity_priority_follows_the_documented_order(
    client: TestClient, store: StoreFixture
) -> None:
    def person(n: int) -> dict[str, Any]:
        return accepted(
            client,
            store,
            {
                "name": "seen",
                "contact": {
                    "email": f"p{n}@example.com",
                    "externalId": f"ext-{n}",
                    "phone": f"+1555000{n:04d}",
                },
            },
        )

    people = [person(n) for n in range(5)]
    ids = [p["contactId"] for p in people]
    orders: list[tuple[dict[str, Any], int]] = [
        (
            {
                "id": ids[0],
                "uuid": people[1]["contactUuid"],
                "externalId": "ext-2",
                "email": "p3@example.com",
                "phone": "+15550000004",
            },
            0,
        ),
        (
            {
                "uuid": people[1]["contactUuid"],
                "externalId": "ext-2",
                "email": "p3@example.com",
                "phone": "+15550000004",
            },
            1,
        ),
        ({"externalId": "ext-2", "email": "p3@example.com", "phone": "+15550000004"}, 2),
        ({"email": "p3@example.com", "phone": "+15550000004"}, 3),
        ({"phone": "+15550000004"}, 4),
    ]
    for contact, expected in orders:
        result = accepted(client, store, {"name": "who", "test": True, "contact": contact})
        assert result["contactId"] == ids[expected], contact


def test_a_new_contact_is_created_when_nothing_matches(
    client: TestClient, store: StoreFixture
) -> None:
    first = accepted(client, store, {"name": "a", "contact": {"email": "new1@example.com"}})
    second = accepted(client, store, {"name": "a", "contact": {"email": "NEW1@example.com "}})
    other = accepted(client, store, {"name": "a", "contact": {"email": "new2@example.com"}})
    assert first["contactId"] == second["contactId"] != other["contactId"]
    assert first["contactUuid"] == second["contactUuid"]


def test_an_unknown_id_or_uuid_alone_is_a_404(client: TestClient, store: StoreFixture) -> None:
    for contact in ({"id": 2_000_000_000}, {"uuid": str(uuid.uuid4())}):
        response = send(client, store, {"name": "a", "contact": contact})
        assert response.status_code == 404
        assert json_of(response) == {
            "success": False,
            "message": "No contact matches the given identifiers.",
        }


# -- dedup, test and silent ------------------------------------------------------------------


def test_dedup_key_answers_the_same_and_stores_once(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {"name": "Paid", "dedupKey": "order-1-paid", "contact": {"email": "d@example.com"}}
    first = accepted(client, store, body)
    retry = accepted(client, store, body)
    assert retry["duplicate"] is True and first["duplicate"] is False
    assert (retry["id"], retry["contactId"], retry["contactUuid"]) == (
        first["id"],
        first["contactId"],
        first["contactUuid"],
    )
    assert stored_count(db, store) == 1


def test_a_test_event_resolves_but_stores_nothing(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    unknown = accepted(client, store, {"name": "a", "test": True, "contact": {"email": "x@e.com"}})
    assert unknown["id"] is None and unknown["contactId"] is None
    known = accepted(client, store, {"name": "a", "contact": {"email": "x@e.com"}})
    again = accepted(client, store, {"name": "a", "test": True, "contact": {"email": "x@e.com"}})
    assert again["id"] is None and again["contactId"] == known["contactId"]
    assert stored_count(db, store) == 1


# -- validation: every message ---------------------------------------------------------------

BASE: dict[str, Any] = {"name": "Viewed", "contact": {"email": "v@example.com"}}


def _with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    for key, value in changes.items():
        if key.startswith("contact_"):
            body["contact"][key.removeprefix("contact_")] = value
        elif value is ...:
            body.pop(key, None)
        else:
            body[key] = value
    return body


VALIDATION_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("name missing", _with(name=...), "name", "The name field is required."),
    ("name empty", _with(name=""), "name", "The name field must have at least 1 character."),
    (
        "name too long",
        _with(name="x" * 301),
        "name",
        "The name field may not have more than 300 characters.",
    ),
    ("name not a string", _with(name=5), "name", "The name field must be a string."),
    ("contact missing", _with(contact=...), "contact", "The contact field is required."),
    (
        "contact not an object",
        _with(contact="a"),
        "contact",
        "The contact field must be an object.",
    ),
    (
        "no identifier",
        _with(contact={"firstName": "Ann"}),
        "contact",
        "The contact must have at least one identifier: id, uuid, externalId, email or phone.",
    ),
    (
        "bad email",
        _with(contact_email="not-an-email"),
        "contact.email",
        "The contact.email field must be a valid email address.",
    ),
    (
        "bad phone",
        _with(contact_phone="12"),
        "contact.phone",
        "The contact.phone field must be a valid phone number.",
    ),
    (
        "blank external id",
        _with(contact_externalId="  "),
        "contact.externalId",
        "The contact.externalId field may not be blank.",
    ),
    (
        "external id of the wrong type",
        _with(contact_externalId=[1]),
        "contact.externalId",
        "The contact.externalId field must be an integer or a string.",
    ),
    ("id zero", _with(contact_id=0), "contact.id", "The contact.id field must be at least 1."),
    (
        "id too large",
        _with(contact_id=2**31),
        "contact.id",
        "The contact.id field must be at most 2147483647.",
    ),
    (
        "bad uuid",
        _with(contact_uuid="nope"),
        "contact.uuid",
        "The contact.uuid field must be a valid UUID.",
    ),
    (
        "unknown contact field",
        _with(contact_mail="a@b.c"),
        "contact.mail",
        "The contact.mail field is not a known field.",
    ),
    ("unknown field", _with(foo=1), "foo", "The foo field is not a known field."),
    (
        "bad occurredAt",
        _with(occurredAt="yesterday"),
        "occurredAt",
        "The occurredAt field must be an RFC 3339 date-time.",
    ),
    (
        "occurredAt out of range",
        _with(occurredAt="0001-01-01T00:00:00+01:00"),
        "occurredAt",
        "The occurredAt field is out of range.",
    ),
    (
        "bad currency",
        _with(currency="EURO"),
        "currency",
        "The currency field must be a 3-letter ISO 4217 code.",
    ),
    ("value not a number", _with(value="5"), "value", "The value field must be a number."),
    ("silent not a boolean", _with(silent="yes"), "silent", "The silent field must be a boolean."),
    (
        "properties not an object",
        _with(properties=[1]),
        "properties",
        "The properties field must be an object.",
    ),
    (
        "dedupKey too long",
        _with(dedupKey="k" * 301),
        "dedupKey",
        "The dedupKey field may not have more than 300 characters.",
    ),
    (
        "source too long",
        _with(source="s" * 201),
        "source",
        "The source field may not have more than 200 characters.",
    ),
    (
        "unknown category",
        _with(category="invoice", action="created"),
        "category",
        "The category field must be one of: order, product, cart, subscription, customer, user.",
    ),
    (
        "category without action",
        _with(category="order"),
        "action",
        "The action field is required when category is present.",
    ),
    (
        "action without category",
        _with(action="created"),
        "category",
        "The category field is required when action is present.",
    ),
    (
        "entity without category",
        _with(entity={"id": "1"}),
        "category",
        "The category field is required when entity is present.",
    ),
    (
        "entity field of the wrong type",
        _with(category="order", action="created", entity={"id": "1", "total": "lots"}),
        "entity.total",
        "The entity.total field must be a number.",
    ),
    (
        "nested entity field of the wrong type",
        _with(category="cart", action="updated", entity={"items": [{"quantity": "two"}]}),
        "entity.items.0.quantity",
        "The entity.items.0.quantity field must be a number.",
    ),
    (
        "NUL character",
        _with(name="a\u0000b"),
        "name",
        "The name field may not contain NUL characters.",
    ),
]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [case[1:] for case in VALIDATION_CASES],
    ids=[case[0] for case in VALIDATION_CASES],
)
def test_validation_messages(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = send(client, store, body)
    assert response.status_code == 422, response.text
    assert json_of(response) == {"success": False, "message": message, "errors": {field: [message]}}
    assert stored_count(db, store) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The request body is empty; a JSON object is expected."),
        (b"{nope", "The request body is not valid JSON"),
        # msgspec meets the bad field before the end of the body: still a JSON error.
        (b'{"name": 5, "contact": {', "The request body is not valid JSON"),
    ],
)
def test_unreadable_bodies_are_a_400(
    client: TestClient, store: StoreFixture, content: bytes, message: str
) -> None:
    response = client.post(
        "/v1/events",
        content=content,
        headers={**store.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    body = json_of(response)
    assert body["success"] is False and body["message"].startswith(message)


def test_a_body_that_is_not_an_object_is_a_422(client: TestClient, store: StoreFixture) -> None:
    response = send(client, store, [BASE])
    assert response.status_code == 422
    assert json_of(response)["errors"] == {"body": ["The request body must be a JSON object."]}


# -- limits ----------------------------------------------------------------------------------


def test_payload_limits(client: TestClient, db: Database, store: StoreFixture) -> None:
    many = send(client, store, _with(properties={f"p{i}": i for i in range(401)}))
    assert many.status_code == 400
    assert json_of(many)["message"] == "Too many properties: 401 (the limit is 400)."
    long = send(client, store, _with(properties={"note": "x" * (100 * 1024 + 1)}))
    assert long.status_code == 400
    assert json_of(long)["message"] == "The string at note exceeds 102400 bytes."
    fields = send(client, store, _with(contact_customFields={"bio": "x" * (100 * 1024 + 1)}))
    assert fields.status_code == 400
    huge = client.post(
        "/v1/events",
        content=b" " * (5 * 1024 * 1024 + 1),
        headers={**store.headers, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert json_of(huge) == {
        "success": False,
        "message": "The request body exceeds the 5242880 byte limit.",
    }
    assert stored_count(db, store) == 0


# -- auth, rate-limit headers, tenancy --------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer cw_sk_wrong"}, {"Authorization": "Basic abc"}],
    ids=["none", "unknown key", "not bearer"],
)
def test_a_secret_key_is_required(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/v1/events", json=BASE, headers=headers)
    assert response.status_code == 401
    assert json_of(response) == {"success": False, "message": "Unauthenticated."}


def test_the_public_client_credential_is_refused(client: TestClient, store: StoreFixture) -> None:
    response = client.post("/v1/events", json=BASE, headers=store.client_headers())
    assert response.status_code == 401


def test_success_carries_rate_limit_headers(client: TestClient, store: StoreFixture) -> None:
    first = send(client, store, BASE)
    second = send(client, store, BASE)
    limit = int(first.headers["X-RateLimit-Limit"])
    assert limit == int(second.headers["X-RateLimit-Limit"]) >= 1
    assert int(second.headers["X-RateLimit-Remaining"]) < limit


def test_another_store_can_reach_no_contact_of_this_store(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    mine = accepted(client, store, {"name": "a", "contact": {"email": "shared@example.com"}})
    for contact in ({"id": mine["contactId"]}, {"uuid": mine["contactUuid"]}):
        response = send(client, other_store, {"name": "b", "contact": contact})
        assert response.status_code == 404
        assert json_of(response)["message"] == "No contact matches the given identifiers."
    # The same email in another store is another person; ids from this store do not pull
    # the other store's event onto this store's contact.
    theirs = accepted(
        client,
        other_store,
        {"name": "b", "contact": {"id": mine["contactId"], "email": "shared@example.com"}},
    )
    assert theirs["contactId"] != mine["contactId"]
    assert event_row(db, theirs["id"]).store_id == other_store.store_id
    assert stored_count(db, store) == 1
    # A dedup key is per store.
    body = {"name": "c", "dedupKey": "same-key", "contact": {"email": "k@example.com"}}
    assert accepted(client, store, body)["duplicate"] is False
    assert accepted(client, other_store, body)["duplicate"] is False


def test_stored_events_are_counted_in_the_metrics(client: TestClient, store: StoreFixture) -> None:
    def counted() -> float:
        value = REGISTRY.get_sample_value("cartwheel_events_ingested_total", {"wire": "native"})
        return value or 0.0

    before = counted()
    body = {"name": "m", "dedupKey": "metric-1", "contact": {"email": "m@example.com"}}
    accepted(client, store, body)
    accepted(client, store, body)  # a duplicate stores nothing
    accepted(client, store, {**body, "dedupKey": None, "test": True})  # nor does a test
    batch = {"events": [{"name": "b", "contact": {"email": "m@example.com"}}, {"name": ""}]}
    assert client.post("/v1/events/batch", json=batch, headers=store.headers).status_code == 202
    assert counted() == before + 2
