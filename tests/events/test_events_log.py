"""GET /v1/events: the store's event log, newest first, filtered, in cursor-linked pages;
on both engines."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.events.queries import Position
from cartwheel.events.service import decode_cursor, encode_cursor
from cartwheel.exceptions import BadRequest
from tests.conftest import StoreFixture, json_of

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def unix(minutes: float) -> int:
    return int((T0 + timedelta(minutes=minutes)).timestamp())


def track(client: TestClient, store: StoreFixture, *events: dict[str, Any]) -> list[str]:
    """Store ``events`` (name, occurredAt, contact…) in one batch; their ids, in order."""
    bodies = [{"contact": {"email": "ann@shop.test"}, **event} for event in events]
    response = client.post("/v1/events/batch", json={"events": bodies}, headers=store.headers)
    answer = json_of(response)
    assert response.status_code == 202 and answer["rejected"] == 0, answer
    return [result["id"] for result in answer["results"]]


def log(client: TestClient, store: StoreFixture, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/events", params=params, headers=store.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = json_of(response)
    return page


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def every_page(client: TestClient, store: StoreFixture, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = log(client, store, **params, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        cursor = page["nextCursor"]
        if cursor is None:
            return seen


def test_newest_first_by_occurrence_then_as_received(
    client: TestClient, store: StoreFixture
) -> None:
    late, early, same_a, same_b = track(
        client,
        store,
        {"name": "Late", "occurredAt": at(30)},
        {"name": "Early", "occurredAt": at(0)},
        {"name": "Same", "occurredAt": at(10)},
        {"name": "Same", "occurredAt": at(10)},
    )
    page = log(client, store)
    assert ids(page) == [late, same_b, same_a, early]
    assert page["nextCursor"] is None


def test_an_event_looks_as_it_does_in_the_contacts_events(
    client: TestClient, store: StoreFixture
) -> None:
    track(
        client,
        store,
        {
            "name": "order_completed",
            "category": "order",
            "action": "completed",
            "occurredAt": at(0),
            "properties": {"total": 59.98},
            "entity": {"id": "order_1", "total": 59.98, "currency": "USD"},
            "value": 59.98,
            "currency": "USD",
        },
    )
    [item] = log(client, store)["items"]
    contact_events = client.get(f"/v1/contacts/{item['contactId']}/events", headers=store.headers)
    assert json_of(contact_events)["items"] == [item]
    assert (item["category"], item["action"], item["value"]) == ("order", "completed", 59.98)


def test_filters_combine(client: TestClient, store: StoreFixture) -> None:
    viewed, placed, completed, other_contact, refunded = track(
        client,
        store,
        {"name": "Viewed Product", "occurredAt": at(0)},
        {"name": "Placed Order", "occurredAt": at(1)},
        {
            "name": "Order Completed",
            "category": "order",
            "action": "completed",
            "occurredAt": at(2),
        },
        {
            "name": "Order Completed",
            "category": "order",
            "action": "completed",
            "occurredAt": at(3),
            "contact": {"email": "bob@shop.test"},
        },
        {"name": "Order Refunded", "category": "order", "action": "refunded", "occurredAt": at(4)},
    )
    assert ids(log(client, store, name="Placed Order")) == [placed]
    assert ids(log(client, store, category="order")) == [refunded, other_contact, completed]
    assert ids(log(client, store, category="order", action="completed")) == [
        other_contact,
        completed,
    ]
    assert ids(log(client, store, action="refunded")) == [refunded]
    bob = log(client, store, name="Order Completed")["items"][0]["contactId"]
    assert ids(log(client, store, contactId=bob)) == [other_contact]
    ann = log(client, store, name="Viewed Product")["items"][0]["contactId"]
    assert ids(log(client, store, contactId=ann, category="order")) == [refunded, completed]
    # [occurred_after, occurred_before): inclusive, then exclusive, in Unix seconds.
    assert ids(log(client, store, occurred_after=unix(1), occurred_before=unix(3))) == [
        completed,
        placed,
    ]
    assert ids(log(client, store, occurred_after=unix(4))) == [refunded]
    assert ids(log(client, store, occurred_before=unix(1))) == [viewed]
    assert ids(log(client, store, name="Nobody Does This")) == []


def test_cursor_pages_see_every_event_once_while_events_arrive(
    client: TestClient, store: StoreFixture
) -> None:
    # Two events share each moment, so pages also break between equal occurred_at values.
    original = track(
        client, store, *({"name": "Tick", "occurredAt": at(minute // 2)} for minute in range(13))
    )
    expected = list(reversed(original))
    first = log(client, store, limit=5)
    seen = ids(first)
    cursor = first["nextCursor"]
    arrived: list[str] = []
    while cursor is not None:
        # Between pages: a newer event, one as old as the page's last, and an older one.
        arrived += track(
            client,
            store,
            {"name": "Tick", "occurredAt": at(100)},
            {"name": "Tick", "occurredAt": at(-100)},
        )
        page = log(client, store, limit=5, cursor=cursor)
        seen += ids(page)
        cursor = page["nextCursor"]
    assert len(seen) == len(set(seen)), "duplicates"
    assert [i for i in seen if i in set(original)] == expected, "gaps or disorder"
    # Newer arrivals sort before the pages read; older ones after: those are read once.
    late_old = [i for i in seen if i in set(arrived)]
    assert late_old and all(i in arrived[1::2] for i in late_old)
    assert sorted(every_page(client, store, limit=7)) == sorted(original + arrived)


def test_a_full_last_page_has_no_next_cursor(client: TestClient, store: StoreFixture) -> None:
    track(client, store, *({"name": "Tick", "occurredAt": at(n)} for n in range(4)))
    first = log(client, store, limit=2)
    second = log(client, store, limit=2, cursor=first["nextCursor"])
    assert len(second["items"]) == 2 and second["nextCursor"] is None


def test_limit_defaults_to_50_and_goes_up_to_250(client: TestClient, store: StoreFixture) -> None:
    for batch in range(3):
        track(client, store, *({"name": "Tick", "occurredAt": at(batch)} for _ in range(100)))
    first = log(client, store)
    assert len(first["items"]) == 50 and first["nextCursor"] is not None
    widest = log(client, store, limit=250)
    assert ids(widest) == ids(first) + ids(
        log(client, store, limit=200, cursor=first["nextCursor"])
    )
    assert len(every_page(client, store, limit=250)) == 300


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


BAD_QUERIES = [
    ("limit=0", "The limit parameter must be between 1 and 250."),
    ("limit=251", "The limit parameter must be between 1 and 250."),
    ("limit=abc", "The limit parameter must be an integer."),
    ("limit=" + "9" * 5000, "The limit parameter must be an integer."),
    ("cursor=abc", "The cursor parameter is not valid"),
    ("cursor=%21%21%21%21", "The cursor parameter is not valid"),
    ("cursor=" + "A" * 81, "The cursor parameter is not valid"),
    ("cursor=%C3%A9t%C3%A9", "The cursor parameter is not valid"),
    ("cursor=" + _cursor("12.notahexid"), "The cursor parameter is not valid"),
    ("cursor=" + _cursor("9" * 18 + "." + "0" * 32), "The cursor parameter is not valid"),
    ("cursor=" + _cursor("1." + "0" * 32 + "\x00"), "The cursor parameter is not valid"),
    ("cursor=%00", "The cursor parameter must not contain NUL characters."),
    ("contactId=-1", "The contactId parameter must be at least 0."),
    ("contactId=abc", "The contactId parameter must be an integer."),
    ("contactId=99999999999999999999", "The contactId parameter may not be greater than"),
    ("occurred_after=yesterday", "The occurred_after parameter must be an integer."),
    ("occurred_before=-5", "The occurred_before parameter must be at least 0."),
    ("occurred_before=253402300800", "The occurred_before parameter may not be greater"),
    ("name=a%00b", "The name parameter must not contain NUL characters."),
    ("category=%00", "The category parameter must not contain NUL characters."),
    ("action=%00", "The action parameter must not contain NUL characters."),
]


@pytest.mark.parametrize(("query", "message"), BAD_QUERIES, ids=[q for q, _ in BAD_QUERIES])
def test_bad_input_is_a_400_in_the_store_data_api_shape(
    client: TestClient, store: StoreFixture, query: str, message: str
) -> None:
    response = client.get(f"/v1/events?{query}", headers=store.headers)
    assert response.status_code == 400, response.text
    body = json_of(response)
    assert body["success"] is False and body["message"].startswith(message), body


def test_odd_but_valid_filters_match_nothing(client: TestClient, store: StoreFixture) -> None:
    track(client, store, {"name": "Tick", "occurredAt": at(0)})
    for params in (
        {"name": "x" * 5000},
        {"category": "é" * 100},
        {"contactId": 0},
        {"occurred_after": unix(10), "occurred_before": unix(0)},
    ):
        assert log(client, store, **params) == {"items": [], "nextCursor": None}, params


def test_the_key_is_required(client: TestClient) -> None:
    assert client.get("/v1/events").status_code == 401


def test_another_stores_events_are_never_visible(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    [mine] = track(client, store, {"name": "Mine", "occurredAt": at(0)})
    [theirs] = track(client, other_store, {"name": "Theirs", "occurredAt": at(1)})
    their_contact = log(client, other_store)["items"][0]["contactId"]
    assert ids(log(client, store)) == [mine]
    assert ids(log(client, store, name="Theirs")) == []
    assert log(client, store, contactId=their_contact) == {"items": [], "nextCursor": None}
    # A cursor names a position, not a store: used by another store it shows that store's.
    assert ids(log(client, other_store)) == [theirs]
    [_, second] = track(
        client,
        store,
        {"name": "Mine", "occurredAt": at(5)},
        {"name": "Mine", "occurredAt": at(4)},
    )
    cursor = log(client, store, limit=1)["nextCursor"]
    assert ids(log(client, other_store, cursor=cursor)) == [theirs]
    assert ids(log(client, store, cursor=cursor)) == [second, mine]


def test_the_cursor_round_trips_exactly() -> None:
    for moment in (T0, T0 + timedelta(microseconds=1), datetime(1969, 7, 20, 20, 17, tzinfo=UTC)):
        position = Position(moment, uuid.uuid4())
        assert decode_cursor(encode_cursor(position)) == position
    with pytest.raises(BadRequest):
        decode_cursor(encode_cursor(Position(T0, uuid.uuid4())) + "A")
