"""Redo custom events: the document's examples, identity, data rules, dedup, answers."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.models import Contact, Event
from cartwheel.wire.redo.schemas import (
    FULL_EXAMPLE,
    MEDIUM_EXAMPLE,
    MINIMAL_EXAMPLE,
    MIXED_EVENTS_EXAMPLE,
)
from tests.conftest import StoreFixture, json_of


def send(client: TestClient, store: StoreFixture, body: Any, **kwargs: Any) -> Response:
    return client.post(
        f"/stores/{store.store_id}/events", json=body, headers=store.headers, **kwargs
    )


def send_bulk(client: TestClient, store: StoreFixture, body: Any) -> Response:
    return client.post(f"/stores/{store.store_id}/events/bulk", json=body, headers=store.headers)


def contact_by_email(client: TestClient, store: StoreFixture, email: str) -> dict[str, Any]:
    response = client.get("/v1/contacts", params={"email": email}, headers=store.headers)
    assert response.status_code == 200, response.text
    contact: dict[str, Any] = json_of(response)
    return contact


def events_of(client: TestClient, store: StoreFixture, contact_id: int) -> list[dict[str, Any]]:
    page = json_of(client.get(f"/v1/contacts/{contact_id}/events", headers=store.headers))
    items: list[dict[str, Any]] = page["items"]
    return items


def stored_events(db: Database, store: StoreFixture) -> int:
    with db.read() as session:
        count = session.scalar(select(func.count()).where(Event.store_id == store.store_id))
    return int(count or 0)


def assert_accepted(response: Response) -> None:
    """A single event's answer: 202 with no body, as the document says."""
    assert response.status_code == 202, response.text
    assert response.content == b""
    assert int(response.headers["X-RateLimit-Remaining"]) >= 0


def assert_all_accepted(response: Response, count: int) -> None:
    """A bulk answer where every event was accepted: 202 with every event's result."""
    assert response.status_code == 202, response.text
    assert response.json() == {
        "accepted": count,
        "rejected": 0,
        "results": [{"index": i, "status": "accepted"} for i in range(count)],
    }
    assert int(response.headers["X-RateLimit-Remaining"]) >= 0


# -- the document's examples ---------------------------------------------------------------


def test_full_example_every_field_lands_where_it_belongs(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    assert_accepted(send(client, store, FULL_EXAMPLE))

    # customer.id names no contact here, so identity falls back to the email.
    contact = contact_by_email(client, store, "stewart@example.com")
    assert contact["phone"] == "+11234567890"
    assert (contact["firstName"], contact["lastName"]) == ("Stewart", "Thompson")
    assert contact["source"] == "redo"
    assert contact["customFields"] == {
        "Age at Signup": 25,
        "Birthday": "1976-07-04T12:00:00Z",
        "Loyalty Tier": "Gold",
        "Accepts Marketing": True,
    }
    with db.read() as session:
        row = session.get(Contact, contact["id"])
        assert row is not None
        assert (row.address1, row.address2, row.city, row.state, row.state_code) == (
            "123 Main St",
            "Apt 4B",
            "Seattle",
            "Washington",
            "WA",
        )
        assert (row.zip, row.country, row.country_code) == ("98101", "United States", "US")
        assert (row.timezone, row.latitude, row.longitude) == (
            "America/Los_Angeles",
            47.6062,
            -122.3321,
        )

    (event,) = events_of(client, store, contact["id"])
    assert event["name"] == "Purchase Milestone Reached"
    assert datetime.fromisoformat(event["occurredAt"]) == datetime(2026, 4, 2, 12, tzinfo=UTC)
    assert (event["value"], event["currency"]) == (299.99, "USD")
    assert event["properties"] == {
        "Milestone Type": "100th_purchase",
        "Total Spent": 5000,
        "VIP Tier": "gold",
        "Enrolled At": "2025-01-01T00:00:00Z",
        "Campaign Source": "email_drip",
        "Last Purchase Date": "2026-03-15T00:00:00Z",
    }
    assert event["propertyTypes"] == {
        "Milestone Type": "string",
        "Total Spent": "number",
        "VIP Tier": "string",
        "Enrolled At": "date",
        "Campaign Source": "string",
        "Last Purchase Date": "date",
    }
    assert event["extra"] == {
        "Most Recent Order IDs": [1, 2, 3],
        "Profile Snapshot": {"tier": "gold", "memberSince": "2024-01-01"},
    }
    with db.read() as session:
        keys = session.scalars(select(Event.dedup_key).where(Event.store_id == store.store_id))
        assert list(keys) == ["milestone-test-001"]


def test_medium_example(client: TestClient, store: StoreFixture) -> None:
    assert_accepted(send(client, store, MEDIUM_EXAMPLE))
    contact = contact_by_email(client, store, "stewart@example.com")
    assert contact["customFields"] == {"Birthday": "1976-07-04T12:00:00Z", "Loyalty Tier": "Gold"}
    (event,) = events_of(client, store, contact["id"])
    assert event["name"] == "Order Placed"
    assert event["properties"] == {"Order Id": "ord_456", "Item Count": 3, "Category": "apparel"}
    assert (event["value"], event["currency"]) == (149.99, "USD")


def test_minimal_example_creates_the_customer(client: TestClient, store: StoreFixture) -> None:
    before = datetime.now(UTC)
    assert_accepted(send(client, store, MINIMAL_EXAMPLE))
    contact = contact_by_email(client, store, "stewart@example.com")
    (event,) = events_of(client, store, contact["id"])
    assert event["name"] == "Page Viewed"
    assert event["properties"] == {} and event["extra"] == {}
    # No eventTimestamp: the event happened now.
    assert datetime.fromisoformat(event["occurredAt"]) >= before.replace(microsecond=0)


def test_bulk_mixed_events_example(client: TestClient, db: Database, store: StoreFixture) -> None:
    assert_all_accepted(
        send_bulk(client, store, MIXED_EVENTS_EXAMPLE), len(MIXED_EVENTS_EXAMPLE["events"])
    )
    alice = contact_by_email(client, store, "alice@example.com")
    bob = contact_by_email(client, store, "bob@example.com")
    (registered,) = events_of(client, store, alice["id"])
    assert registered["name"] == "User Registered"
    assert registered["properties"] == {"Plan Type": "premium"}
    (purchase,) = events_of(client, store, bob["id"])
    assert purchase["properties"] == {"Order Total": 99.99, "Item Count": 3}
    assert (purchase["value"], purchase["currency"]) == (99.99, "USD")
    assert stored_events(db, store) == 2


# -- data rules ----------------------------------------------------------------------------


def test_top_level_zero_null_and_empty_are_dropped_but_not_inside_extra(
    client: TestClient, store: StoreFixture
) -> None:
    body = {
        "eventName": "Checked",
        "customer": {"email": "zero@example.com"},
        "data": {
            "zero": 0,
            "zero float": 0.0,
            "none": None,
            "empty": "",
            "no": False,
            "one": 1,
            "text": "x",
            "nested": {"a": 1},
            "list": [1, 2],
            "$extra": {"zero": 0, "none": None, "empty": "", "html": "<p>hi</p>"},
        },
    }
    assert_accepted(send(client, store, body))
    contact = contact_by_email(client, store, "zero@example.com")
    (event,) = events_of(client, store, contact["id"])
    assert event["properties"] == {"no": False, "one": 1, "text": "x"}
    assert event["propertyTypes"] == {"no": "boolean", "one": "number", "text": "string"}
    assert event["extra"] == {
        "zero": 0,
        "none": None,
        "empty": "",
        "html": "<p>hi</p>",
        "nested": {"a": 1},
        "list": [1, 2],
    }


def test_dates_in_data_and_custom_fields_are_normalized_to_utc(
    client: TestClient, store: StoreFixture
) -> None:
    body = {
        "eventName": "Dated",
        "eventTimestamp": "2026-04-02T14:00:00+02:00",
        "customer": {"email": "dates@example.com", "customFields": {"Since": "2024-05-01"}},
        "data": {"At": "2026-04-02T12:00:00.500-05:00", "Plain": "2026-13-45 not a date"},
    }
    assert_accepted(send(client, store, body))
    contact = contact_by_email(client, store, "dates@example.com")
    assert contact["customFields"] == {"Since": "2024-05-01T00:00:00Z"}
    (event,) = events_of(client, store, contact["id"])
    assert datetime.fromisoformat(event["occurredAt"]) == datetime(2026, 4, 2, 12, tzinfo=UTC)
    assert event["properties"] == {
        "At": "2026-04-02T17:00:00.500000Z",
        "Plain": "2026-13-45 not a date",
    }
    assert event["propertyTypes"] == {"At": "date", "Plain": "string"}


def test_profile_fields_are_patched_not_erased(client: TestClient, store: StoreFixture) -> None:
    first = {
        "eventName": "A",
        "customer": {
            "email": "patch@example.com",
            "firstName": "Ann",
            "lastName": "Lee",
            "customFields": {"Tier": "Gold"},
        },
    }
    second = {
        "eventName": "B",
        "customer": {"email": "patch@example.com", "lastName": "Li", "customFields": {"Age": 30}},
    }
    assert_accepted(send(client, store, first))
    assert_accepted(send(client, store, second))
    contact = contact_by_email(client, store, "patch@example.com")
    assert (contact["firstName"], contact["lastName"]) == ("Ann", "Li")
    assert contact["customFields"] == {"Tier": "Gold", "Age": 30}


# -- identity ------------------------------------------------------------------------------


def test_customer_id_names_a_contact_by_uuid_or_id(client: TestClient, store: StoreFixture) -> None:
    assert_accepted(send(client, store, {"eventName": "A", "customer": {"email": "id@x.com"}}))
    contact = contact_by_email(client, store, "id@x.com")
    by_uuid = {"eventName": "By uuid", "customer": {"id": contact["uuid"]}}
    by_id = {"eventName": "By id", "customer": {"id": str(contact["id"])}}
    # customer.id wins over an email that would otherwise make a new customer.
    over_email = {
        "eventName": "Over email",
        "customer": {"id": contact["uuid"], "email": "new@x.com", "firstName": "Ida"},
    }
    for body in (by_uuid, by_id, over_email):
        assert_accepted(send(client, store, body))
    names = sorted(e["name"] for e in events_of(client, store, contact["id"]))
    assert names == ["A", "By id", "By uuid", "Over email"]
    same = contact_by_email(client, store, "new@x.com")
    assert (same["id"], same["firstName"]) == (contact["id"], "Ida")


def test_unknown_customer_id_falls_back_to_email_then_phone(
    client: TestClient, store: StoreFixture
) -> None:
    by_email = {"eventName": "E", "customer": {"id": "nobody", "email": "fall@example.com"}}
    by_phone = {"eventName": "P", "customer": {"id": "999999999", "phoneNumber": "+12065550111"}}
    assert_accepted(send(client, store, by_email))
    assert_accepted(send(client, store, by_phone))
    contact = contact_by_email(client, store, "fall@example.com")
    assert [e["name"] for e in events_of(client, store, contact["id"])] == ["E"]
    phone = json_of(
        client.get("/v1/contacts", params={"phone": "+12065550111"}, headers=store.headers)
    )
    assert phone["totalCount"] == 1 and phone["items"][0]["email"] is None


def test_unknown_customer_id_alone_is_a_400_not_a_404(
    client: TestClient, store: StoreFixture
) -> None:
    response = send(client, store, {"eventName": "E", "customer": {"id": "665f1a2b3c4d5e6f"}})
    assert response.status_code == 400
    problem = json_of(response)
    assert problem["errors"] == [
        {
            "field": "customer.id",
            "message": "customer.id matches no customer; add customer.email or "
            "customer.phoneNumber so that one can be created.",
        }
    ]


def test_email_then_phone_priority_and_phone_normalized_to_e164(
    client: TestClient, store: StoreFixture
) -> None:
    body = {"eventName": "A", "customer": {"phoneNumber": "+1 (206) 555-0122"}}
    assert_accepted(send(client, store, body))
    phone_contact = json_of(
        client.get("/v1/contacts", params={"phone": "+12065550122"}, headers=store.headers)
    )["items"][0]
    assert phone_contact["phone"] == "+12065550122"
    # Email first: the phone-only customer is the same person and joins the email one.
    both = {
        "eventName": "B",
        "customer": {"email": "prio@example.com", "phoneNumber": "+12065550122"},
    }
    assert_accepted(send(client, store, both))
    contact = contact_by_email(client, store, "prio@example.com")
    assert contact["phone"] == "+12065550122"
    assert sorted(e["name"] for e in events_of(client, store, contact["id"])) == ["A", "B"]


# -- deduplication -------------------------------------------------------------------------


def test_unique_id_retry_answers_the_same_and_stores_once(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {"eventName": "Paid", "customer": {"email": "d@example.com"}, "uniqueId": "pay-1"}
    assert_accepted(send(client, store, body))
    assert_accepted(send(client, store, body))
    assert stored_events(db, store) == 1
    # The same key in a bulk request, twice, next to a new one: still one row each.
    other = {"eventName": "Paid", "customer": {"email": "d@example.com"}, "uniqueId": "pay-2"}
    assert_all_accepted(send_bulk(client, store, {"events": [body, other, other, body]}), 4)
    assert stored_events(db, store) == 2


def test_unique_id_is_per_store(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    body = {"eventName": "Paid", "customer": {"email": "d@example.com"}, "uniqueId": "shared"}
    assert_accepted(send(client, store, body))
    assert_accepted(send(client, other_store, body))
    assert stored_events(db, store) == 1 and stored_events(db, other_store) == 1


# -- bulk partial failures -----------------------------------------------------------------


def test_bulk_accepts_the_valid_events_and_reports_the_rest(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    good = {"eventName": "Good", "customer": {"email": "bulk@example.com"}}
    bad = {"eventName": "Bad", "customer": {"email": "not-an-email"}, "value": "ten"}
    response = send_bulk(client, store, {"events": [good, bad, "oops", good]})
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "accepted": 2,
        "rejected": 2,
        "results": [
            {"index": 0, "status": "accepted"},
            {
                "index": 1,
                "status": "rejected",
                "error": "customer.email must be a valid email address.",
                "errors": [
                    {
                        "field": "customer.email",
                        "message": "customer.email must be a valid email address.",
                    },
                    {"field": "value", "message": "value must be a number."},
                ],
            },
            {
                "index": 2,
                "status": "rejected",
                "error": "The event must be a JSON object.",
                "errors": [{"field": "body", "message": "The event must be a JSON object."}],
            },
            {"index": 3, "status": "accepted"},
        ],
    }
    assert stored_events(db, store) == 2


def test_bulk_with_no_valid_event_is_a_400_with_the_results(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    response = send_bulk(client, store, {"events": [{"eventName": "No customer"}]})
    assert response.status_code == 400
    problem = json_of(response)
    assert problem["detail"] == "No event was accepted: every event of the request was rejected."
    assert problem["results"] == [
        {
            "index": 0,
            "status": "rejected",
            "error": "customer is required.",
            "errors": [{"field": "customer", "message": "customer is required."}],
        }
    ]
    assert stored_events(db, store) == 0


# -- validation messages -------------------------------------------------------------------


def _with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(MINIMAL_EXAMPLE)
    for path, value in changes.items():
        target = body
        *parents, leaf = path.split("__")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return body


INVALID: list[tuple[Any, str, str]] = [
    ({"customer": {"email": "a@b.co"}}, "eventName", "eventName is required."),
    (_with(eventName=""), "eventName", "eventName is required."),
    (_with(eventName=5), "eventName", "eventName must be a string."),
    (_with(eventName="   "), "eventName", "eventName must not be blank."),
    (_with(eventName="x" * 301), "eventName", "eventName must be at most 300 characters."),
    ({"eventName": "A"}, "customer", "customer is required."),
    (_with(customer="a@b.co"), "customer", "customer must be an object."),
    (
        _with(customer={}),
        "customer",
        "customer must include at least one of id, email or phoneNumber.",
    ),
    (
        _with(customer={"firstName": "Ann", "email": ""}),
        "customer",
        "customer must include at least one of id, email or phoneNumber.",
    ),
    (
        _with(customer__phone="+12065550100"),
        "customer.phone",
        "customer.phone is not a customer field.",
    ),
    (_with(customer__id=42), "customer.id", "customer.id must be a string."),
    (
        _with(customer__email="nope"),
        "customer.email",
        "customer.email must be a valid email address.",
    ),
    (
        _with(customer__email="a" * 320 + "@x.co"),
        "customer.email",
        "customer.email must be at most 320 characters.",
    ),
    (
        _with(customer__phoneNumber="12"),
        "customer.phoneNumber",
        'customer.phoneNumber must be a phone number in E.164 format, e.g. "+12065550100".',
    ),
    (
        _with(customer__firstName=["A"]),
        "customer.firstName",
        "customer.firstName must be a string.",
    ),
    (
        _with(customer__lastName="L" * 201),
        "customer.lastName",
        "customer.lastName must be at most 200 characters.",
    ),
    (
        _with(customer__location="Seattle"),
        "customer.location",
        "customer.location must be an object.",
    ),
    (
        _with(customer__location={"zip": "98101"}),
        "customer.location.zip",
        "customer.location.zip is not a location field.",
    ),
    (
        _with(customer__location={"city": 7}),
        "customer.location.city",
        "customer.location.city must be a string.",
    ),
    (
        _with(customer__location={"countryCode": "USA"}),
        "customer.location.countryCode",
        'customer.location.countryCode must be an ISO 3166-1 alpha-2 code, e.g. "US".',
    ),
    (
        _with(customer__location={"ianaTimeZoneName": "Mars/Olympus"}),
        "customer.location.ianaTimeZoneName",
        "customer.location.ianaTimeZoneName must be an IANA time zone identifier, "
        'e.g. "America/New_York".',
    ),
    (
        _with(customer__location={"latitude": "47.6"}),
        "customer.location.latitude",
        "customer.location.latitude must be a number.",
    ),
    (
        _with(customer__location={"longitude": 181}),
        "customer.location.longitude",
        "customer.location.longitude must be between -180 and 180.",
    ),
    (
        _with(customer__customFields=["a"]),
        "customer.customFields",
        "customer.customFields must be an object.",
    ),
    (
        _with(customer__customFields={"Kids": ["Al"]}),
        "customer.customFields.Kids",
        "customer.customFields.Kids must be a string, a number or a boolean.",
    ),
    (_with(data=[1]), "data", "data must be an object."),
    (_with(data={"$extra": "x"}), "data.$extra", "data.$extra must be an object."),
    (
        _with(eventTimestamp="yesterday"),
        "eventTimestamp",
        "eventTimestamp must be an ISO 8601 (RFC 3339) date-time string, "
        "e.g. 2026-04-02T12:00:00Z.",
    ),
    (_with(value="9.99"), "value", "value must be a number."),
    (_with(value=True), "value", "value must be a number."),
    (
        _with(valueCurrency="dollars"),
        "valueCurrency",
        'valueCurrency must be a 3-letter ISO 4217 currency code, e.g. "USD".',
    ),
    (_with(uniqueId=""), "uniqueId", "uniqueId must be a string of 1 to 255 characters."),
    (_with(uniqueId="u" * 256), "uniqueId", "uniqueId must be a string of 1 to 255 characters."),
    (_with(uniqueId=7), "uniqueId", "uniqueId must be a string of 1 to 255 characters."),
    ([MINIMAL_EXAMPLE], "body", "The event must be a JSON object."),
]


@pytest.mark.parametrize(("body", "field", "message"), INVALID)
def test_invalid_event_is_a_problem_naming_the_field(
    client: TestClient, db: Database, store: StoreFixture, body: Any, field: str, message: str
) -> None:
    response = send(client, store, body)
    assert response.status_code == 400, response.text
    # Redo's document: 400, 404 and 429 bodies are application/json (problem+json is only
    # its `default` response), so a client generated from it can read them.
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": message,
        "errors": [{"field": field, "message": message}],
    }
    assert stored_events(db, store) == 0


def test_every_problem_of_an_event_is_listed(client: TestClient, store: StoreFixture) -> None:
    body = {"eventName": 1, "customer": {"email": "x"}, "value": "1", "uniqueId": ""}
    problem = json_of(send(client, store, body))
    assert [e["field"] for e in problem["errors"]] == [
        "eventName",
        "customer.email",
        "value",
        "uniqueId",
    ]


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"", "The request body is empty; a JSON object is expected."),
        (b"{not json", None),
    ],
)
def test_unreadable_body_is_a_400_problem(
    client: TestClient, store: StoreFixture, content: bytes, detail: str | None
) -> None:
    response = client.post(
        f"/stores/{store.store_id}/events",
        content=content,
        headers={**store.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    problem = json_of(response)
    assert problem["title"] == "Bad Request" and problem["status"] == 400
    if detail is not None:
        assert problem["detail"] == detail
    else:
        assert problem["detail"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "The request body must be a JSON object."),
        ({}, "events is required."),
        ({"events": {"eventName": "A"}}, "events must be an array of custom events."),
        ({"events": []}, "events must contain at least 1 event."),
        (
            {"events": [MINIMAL_EXAMPLE], "dryRun": True},
            "dryRun is not allowed: a bulk request has only `events`.",
        ),
    ],
)
def test_invalid_bulk_envelope(
    client: TestClient, store: StoreFixture, body: Any, message: str
) -> None:
    response = send_bulk(client, store, body)
    assert response.status_code == 400
    assert json_of(response)["detail"] == message
