"""The tracking spec's endpoints with hand-made requests, for what the real libraries never
send: every call type and the browser's forms, write keys (and what they cannot open), bad
input (wrong key, oversize message and batch, invalid JSON, mixed batches, gzip bombs),
deduplication, clock skew, identity joining and e-commerce records. Both engines."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of
from tests.wire.segment.conftest import by_name, contact_by_email, events


def send(
    client: TestClient,
    store: StoreFixture,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        path,
        content=content,
        headers={"Content-Type": "application/json", **store.write_headers, **(headers or {})},
    )


def ok(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}


# -- the calls and their endpoints ---------------------------------------------------------


CALLS: dict[str, dict[str, Any]] = {
    "track": {"userId": "u-1", "event": "Signed Up", "properties": {"plan": "pro"}},
    "identify": {"userId": "u-1", "traits": {"email": "calls@example.com", "name": "Cal"}},
    "page": {"userId": "u-1", "name": "Home", "properties": {"path": "/"}},
    "screen": {"userId": "u-1", "name": "Settings"},
    "group": {"userId": "u-1", "groupId": "acme", "traits": {"employees": 42}},
    "alias": {"userId": "u-1", "previousId": "old-1"},
}
NAMES = {"track": "Signed Up"}


@pytest.mark.parametrize("kind", list(CALLS))
def test_each_single_call_and_its_browser_form_is_stored(
    kind: str, client: TestClient, store: StoreFixture
) -> None:
    ok(send(client, store, f"/v1/{kind}", {**CALLS[kind], "messageId": f"{kind}-long"}))
    # The browser library: /v1/<first letter>, text/plain, writeKey inside, from a page.
    browser = client.post(
        f"/v1/{kind[0]}",
        content=json.dumps({**CALLS[kind], "writeKey": store.write_key, "type": kind}),
        headers={"Content-Type": "text/plain", "Origin": "https://shop.example.com"},
    )
    ok(browser)
    assert browser.headers["access-control-allow-origin"] == "*"
    stored = by_name(client, store, NAMES.get(kind, kind))
    assert len(stored) == 2
    assert stored[0]["extra"]["messageId"] == f"{kind}-long"
    assert stored[0]["extra"]["userId"] == "u-1"
    if kind == "group":
        assert stored[0]["properties"] == {"groupId": "acme", "employees": 42}
    if kind == "page":
        assert stored[0]["properties"] == {"name": "Home", "path": "/"}
    if kind == "alias":
        assert stored[0]["properties"] == {"previousId": "old-1"}


def test_batch_and_its_other_forms(client: TestClient, store: StoreFixture) -> None:
    batch = {"batch": [{"type": "track", "userId": "u-2", "event": "A"}]}
    ok(send(client, store, "/v1/batch", batch))
    ok(send(client, store, "/v1/import", batch))
    ok(
        client.post(
            "/v1/b",
            content=json.dumps({**batch, "writeKey": store.write_key}),
            headers={"Content-Type": "text/plain"},
        )
    )
    assert len(by_name(client, store, "A")) == 3


def test_a_browser_preflight_is_answered(client: TestClient) -> None:
    response = client.options(
        "/v1/t",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://shop.example.com"


# -- write keys ------------------------------------------------------------------------------


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("cw_wk_wrong"),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer cw_wk_whatever"},
    ],
    ids=["none", "wrong key", "not base64", "bearer"],
)
def test_a_missing_or_wrong_write_key_is_401(
    headers: dict[str, str], client: TestClient, store: StoreFixture
) -> None:
    response = client.post("/v1/track", json=CALLS["track"], headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["success"] is False and body["code"] == "unauthorized", body
    assert events(client, store) == []


def test_a_secret_key_is_not_a_write_key(client: TestClient, store: StoreFixture) -> None:
    for headers in (basic(store.api_key), store.headers):
        assert client.post("/v1/track", json=CALLS["track"], headers=headers).status_code == 401
    body = {**CALLS["track"], "writeKey": store.api_key}
    assert client.post("/v1/track", json=body).status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/contacts"),
        ("GET", "/v1/events"),
        ("POST", "/v1/events"),
        ("POST", "/v1/events/batch"),
        ("GET", "/v1/orders"),
        ("GET", "/v1/contact-merges"),
        ("GET", "/v1/webhooks"),
        ("POST", "/v5/events"),
        ("POST", "/api/events"),
    ],
)
def test_a_write_key_opens_nothing_else(
    method: str, path: str, client: TestClient, store: StoreFixture
) -> None:
    for headers in (
        {"Authorization": f"Bearer {store.write_key}"},
        {"X-API-KEY": store.write_key},
        store.write_headers,
    ):
        response = client.request(method, path, json={}, headers=headers)
        assert response.status_code == 401, (path, headers, response.text)


def test_a_write_key_sends_to_its_own_store_only(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    ok(send(client, store, "/v1/track", CALLS["track"]))
    assert events(client, other_store) == []
    assert len(events(client, store)) == 1


# -- bad input -------------------------------------------------------------------------------


def test_invalid_json_is_400(client: TestClient, store: StoreFixture) -> None:
    for path in ("/v1/track", "/v1/batch"):
        response = send(client, store, path, b'{"userId": "u", "event": ')
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_request"
    response = send(client, store, "/v1/batch", {"batch": "nope"})
    assert response.status_code == 400 and "batch" in response.json()["errors"]
    assert events(client, store) == []


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"event": "No id"}, "userId"),
        ({"userId": "u"}, "event"),
        ({"userId": {"a": 1}, "event": "E"}, "userId"),
        ({"userId": "u", "event": "E", "timestamp": "yesterday"}, "timestamp"),
        ({"userId": "u", "event": "E", "properties": [1, 2]}, "properties"),
    ],
)
def test_an_invalid_message_names_its_field(
    message: dict[str, Any], field: str, client: TestClient, store: StoreFixture
) -> None:
    response = send(client, store, "/v1/track", message)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


def test_a_batch_mixing_good_and_bad_messages_stores_the_good_ones(
    client: TestClient, store: StoreFixture
) -> None:
    huge = {"type": "track", "userId": "u", "event": "Huge", "properties": {"x": "y" * 33_000}}
    batch = [
        {"type": "track", "userId": "u", "event": "Good 1", "messageId": "g1"},
        {"type": "track", "event": "No id", "messageId": "bad-1"},
        huge,
        {"type": "bogus", "userId": "u"},
        "not an object",
        {"type": "identify", "anonymousId": "a-1", "traits": {"plan": "x"}},
    ]
    response = send(client, store, "/v1/batch", {"batch": batch})
    assert response.status_code == 200, response.text
    rejected = response.json()["rejected"]
    assert [(r["index"], r["status"]) for r in rejected] == [
        (1, 400),
        (2, 413),
        (3, 400),
        (4, 400),
    ]
    assert rejected[0]["messageId"] == "bad-1" and "userId" in rejected[0]["errors"]
    assert sorted(e["name"] for e in events(client, store)) == ["Good 1", "identify"]


def test_a_batch_with_no_good_message_is_400(client: TestClient, store: StoreFixture) -> None:
    response = send(client, store, "/v1/batch", {"batch": [{"type": "track", "event": "x"}]})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and [r["index"] for r in body["rejected"]] == [0]


def test_oversize_message_and_batch_are_413(client: TestClient, store: StoreFixture) -> None:
    big = {**CALLS["track"], "properties": {"x": "y" * (32 * 1024)}}
    response = send(client, store, "/v1/track", big)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    messages = [{**CALLS["track"], "type": "track", "properties": {"x": "y" * 20_000}}] * 26
    response = send(client, store, "/v1/batch", {"batch": messages})
    assert response.status_code == 413
    assert events(client, store) == []


def test_gzip_bodies_are_inflated(client: TestClient, store: StoreFixture) -> None:
    body = gzip.compress(json.dumps({"batch": [{**CALLS["track"], "type": "track"}]}).encode())
    ok(send(client, store, "/v1/batch", body, {"Content-Encoding": "gzip"}))
    assert len(events(client, store)) == 1


def test_gzip_bombs_and_broken_gzip_are_refused(client: TestClient, store: StoreFixture) -> None:
    # 50 MB of one byte, 50 KB compressed: refused once it inflates past 500 KB.
    bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}", compresslevel=9)
    assert len(bomb) < 100_000
    response = send(client, store, "/v1/batch", bomb, {"Content-Encoding": "gzip"})
    assert response.status_code == 413
    response = send(client, store, "/v1/batch", b"\x1f\x8bnot gzip", {"Content-Encoding": "gzip"})
    assert response.status_code == 400
    truncated = gzip.compress(json.dumps({"batch": []}).encode())[:-6]
    response = send(client, store, "/v1/batch", truncated, {"Content-Encoding": "gzip"})
    assert response.status_code == 400
    response = send(client, store, "/v1/batch", b"{}", {"Content-Encoding": "br"})
    assert response.status_code == 415
    assert events(client, store) == []


def test_the_rate_limit_is_429_with_retry_after(
    client: TestClient, store: StoreFixture, runtime: Any
) -> None:
    from cartwheel.stores import service as stores

    with runtime.db.transaction() as session:
        stores.set_rate_limit(session, store.store_id, 1.0)
    runtime.credentials.clear()
    try:
        statuses = [send(client, store, "/v1/track", CALLS["track"]) for _ in range(3)]
        limited = statuses[-1]
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["code"] == "rate_limited"
    finally:
        with runtime.db.transaction() as session:
            stores.set_rate_limit(session, store.store_id, None)
        runtime.credentials.clear()


# -- dedup and time --------------------------------------------------------------------------


def test_a_retried_batch_stores_nothing_twice(client: TestClient, store: StoreFixture) -> None:
    batch = {
        "batch": [
            {**CALLS["track"], "type": "track", "messageId": "m-1"},
            {**CALLS["track"], "type": "track", "messageId": "m-2"},
            {**CALLS["track"], "type": "track", "messageId": "m-1"},
        ]
    }
    ok(send(client, store, "/v1/batch", batch))
    ok(send(client, store, "/v1/batch", batch))
    assert sorted(e["extra"]["messageId"] for e in events(client, store)) == ["m-1", "m-2"]


def test_the_timestamp_is_corrected_for_the_clients_clock(
    client: TestClient, store: StoreFixture
) -> None:
    # The client's clock is 1 hour fast: it says the event happened at its 11:00 and it sent
    # it at its 11:00:10; we receive it now, so the event happened 10 s before now.
    now = datetime.now(UTC)
    fast = now + timedelta(hours=1)
    message = {
        **CALLS["track"],
        "timestamp": (fast - timedelta(seconds=10)).isoformat(),
        "sentAt": fast.isoformat(),
    }
    ok(send(client, store, "/v1/track", message))
    (event,) = events(client, store)
    occurred = datetime.fromisoformat(event["occurredAt"].replace("Z", "+00:00"))
    assert abs((occurred - (now - timedelta(seconds=10))).total_seconds()) < 5
    # A batch's sentAt applies to its messages; no sentAt: the timestamp as sent.
    ok(
        send(
            client,
            store,
            "/v1/batch",
            {
                "batch": [{**message, "type": "track", "event": "Batched", "sentAt": None}],
                "sentAt": fast.isoformat(),
            },
        )
    )
    (batched,) = by_name(client, store, "Batched")
    assert batched["occurredAt"][:16] == event["occurredAt"][:16]
    ok(
        send(
            client,
            store,
            "/v1/track",
            {**CALLS["track"], "event": "Old", "timestamp": "2020-01-02T03:04:05Z"},
        )
    )
    assert by_name(client, store, "Old")[0]["occurredAt"].startswith("2020-01-02T03:04:05")


def test_context_is_kept_with_the_callers_ip(client: TestClient, store: StoreFixture) -> None:
    context = {
        "userAgent": "Mozilla/5.0",
        "page": {"path": "/p", "url": "https://shop.example.com/p"},
        "campaign": {"source": "newsletter"},
        "library": {"name": "analytics.js", "version": "next-1.70.0"},
    }
    ok(send(client, store, "/v1/track", {**CALLS["track"], "context": context}))
    ok(send(client, store, "/v1/track", {**CALLS["track"], "context": {"ip": "203.0.113.9"}}))
    first, second = events(client, store)
    assert first["extra"]["context"] == {**context, "ip": "testclient"}
    assert first["source"] == "analytics.js"
    assert second["extra"]["context"]["ip"] == "203.0.113.9" and second["source"] == "segment"


# -- identity --------------------------------------------------------------------------------


def test_anonymous_profiles_join_the_customer_by_a_recorded_undoable_merge(
    client: TestClient, store: StoreFixture
) -> None:
    ok(send(client, store, "/v1/page", {"anonymousId": "v-1", "name": "Home"}))
    ok(send(client, store, "/v1/track", {"anonymousId": "v-1", "event": "Browsed"}))
    (browsed,) = by_name(client, store, "Browsed")
    visitor = browsed["contactId"]
    # Not a contact of the store data API: not listed, not found, not in the contact's log.
    assert json_of(client.get("/v1/contacts", headers=store.headers))["totalCount"] == 0
    assert client.get(f"/v1/contacts/{visitor}", headers=store.headers).status_code == 404
    assert client.get(f"/v1/contacts/{visitor}/events", headers=store.headers).status_code == 404

    # The first call naming the person (here an email trait, no userId) joins them.
    identify = {"anonymousId": "v-1", "traits": {"email": "vi@example.com", "firstName": "Vi"}}
    ok(send(client, store, "/v1/identify", identify))
    person = contact_by_email(client, store, "vi@example.com")
    assert person["id"] != visitor and person["firstName"] == "Vi"
    assert sorted(e["name"] for e in events(client, store, contactId=person["id"])) == [
        "Browsed",
        "identify",
        "page",
    ]
    (merge,) = json_of(client.get("/v1/contact-merges", headers=store.headers))["items"]
    assert (merge["sourceContactId"], merge["targetContactId"]) == (visitor, person["id"])
    assert merge["reason"] == "anonymous v-1"
    # Later anonymous calls from the same device are the customer's at once.
    ok(send(client, store, "/v1/track", {"anonymousId": "v-1", "event": "Came back"}))
    assert by_name(client, store, "Came back")[0]["contactId"] == person["id"]

    undone = client.post(f"/v1/contact-merges/{merge['id']}/undo", headers=store.headers)
    assert undone.status_code == 200, undone.text
    assert sorted(e["name"] for e in events(client, store, contactId=visitor)) == [
        "Browsed",
        "page",
    ]
    assert json_of(client.get("/v1/contacts", headers=store.headers))["totalCount"] == 1


def test_alias_joins_the_previous_id(client: TestClient, store: StoreFixture) -> None:
    ok(send(client, store, "/v1/track", {"anonymousId": "dev-9", "event": "Early"}))
    ok(send(client, store, "/v1/track", {"userId": "old-account", "event": "Legacy"}))
    ok(send(client, store, "/v1/identify", {"userId": "new-account", "traits": {"plan": "x"}}))
    ok(send(client, store, "/v1/alias", {"previousId": "dev-9", "userId": "new-account"}))
    ok(send(client, store, "/v1/alias", {"previousId": "old-account", "userId": "new-account"}))
    ok(send(client, store, "/v1/alias", {"previousId": "never-seen", "userId": "new-account"}))
    (identify,) = by_name(client, store, "identify")
    survivor = identify["contactId"]
    names = sorted(e["name"] for e in events(client, store, contactId=survivor))
    assert names == ["Early", "Legacy", "alias", "alias", "alias", "identify"]
    person = json_of(client.get(f"/v1/contacts/{survivor}", headers=store.headers))
    # The previous user id merged in with its contact; an unseen one is claimed by nobody.
    assert sorted(person["externalIds"]) == ["new-account", "old-account"]
    merges = json_of(client.get("/v1/contact-merges", headers=store.headers))["items"]
    assert sorted(m["reason"] for m in merges) == ["anonymous dev-9", "external old-account"]


def test_a_known_customers_own_anonymous_id_is_no_second_profile(
    client: TestClient, store: StoreFixture
) -> None:
    identify = {"userId": "u-7", "anonymousId": "d-7", "traits": {"email": "u7@example.com"}}
    ok(send(client, store, "/v1/identify", identify))
    ok(send(client, store, "/v1/track", {"anonymousId": "d-7", "event": "Later"}))
    person = contact_by_email(client, store, "u7@example.com")
    assert by_name(client, store, "Later")[0]["contactId"] == person["id"]
    assert json_of(client.get("/v1/contact-merges", headers=store.headers))["items"] == []


# -- e-commerce ------------------------------------------------------------------------------


def track(event: str, properties: dict[str, Any], user: str = "shopper") -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": event, "properties": properties}


def test_ecommerce_events_keep_the_cart_and_the_order(
    client: TestClient, store: StoreFixture, worker: Worker
) -> None:
    shirt = {"product_id": "p-1", "sku": "TSH", "name": "Shirt", "price": 10}
    mug = {"product_id": "p-2", "sku": "MUG", "name": "Mug", "price": 4.5}
    t0 = datetime(2026, 12, 1, 10, tzinfo=UTC)

    def at(minutes: int, message: dict[str, Any]) -> dict[str, Any]:
        return {**message, "timestamp": (t0 + timedelta(minutes=minutes)).isoformat()}

    batch = [
        at(0, track("Product Viewed", {**shirt, "currency": "eur"})),
        at(1, track("Product Added", {**shirt, "cart_id": "c-1", "quantity": 2})),
        at(2, track("Product Added", {**mug, "cart_id": "c-1"})),
        at(3, track("Product Added", {**mug, "cart_id": "c-1", "quantity": 2})),
        at(4, track("Product Removed", {**shirt, "cart_id": "c-1", "quantity": 1})),
    ]
    ok(send(client, store, "/v1/batch", {"batch": batch}))
    worker.drain()
    (cart,) = json_of(client.get("/v1/carts", headers=store.headers))["items"]
    assert cart["externalId"] == "c-1" and cart["status"] == "open"
    assert [(i["productId"], i["quantity"]) for i in cart["items"]] == [("p-1", 1), ("p-2", 3)]
    assert (cart["total"], cart["totalProducts"]) == (23.5, 4)

    viewed = {"cart_id": "c-1", "products": [{**shirt, "quantity": 1}], "currency": "EUR"}
    ok(send(client, store, "/v1/track", at(5, track("Cart Viewed", viewed))))
    order = {
        "order_id": "o-1",
        "total": 12.5,
        "revenue": 10,
        "shipping": 3,
        "tax": 1,
        "discount": 1.5,
        "coupon": "WELCOME",
        "currency": "EUR",
        "products": [{**shirt, "quantity": 1}],
    }
    ok(send(client, store, "/v1/track", at(6, track("Order Completed", order))))
    worker.drain()
    (cart,) = json_of(client.get("/v1/carts", headers=store.headers))["items"]
    assert [(i["productId"], i["quantity"]) for i in cart["items"]] == [("p-1", 1)]
    (placed,) = json_of(client.get("/v1/orders", headers=store.headers))["items"]
    assert cart["status"] == "converted" and cart["orderId"] == placed["id"]
    assert (placed["total"], placed["status"]) == (12.5, "completed")
    assert placed["shippingAmount"] == 3 and placed["discountCode"] == "WELCOME"
    (completed,) = by_name(client, store, "Order Completed")
    assert (completed["category"], completed["action"]) == ("order", "completed")
    assert (completed["value"], completed["currency"]) == (12.5, "EUR")

    ok(send(client, store, "/v1/track", at(7, track("Order Refunded", {"order_id": "o-1"}))))
    worker.drain()
    (refunded,) = json_of(client.get("/v1/orders", headers=store.headers))["items"]
    assert refunded["status"] == "canceled"
    (product_viewed,) = by_name(client, store, "Product Viewed")
    assert product_viewed["entity"]["id"] == "p-1" and product_viewed["currency"] == "EUR"


def test_an_anonymous_cart_becomes_the_customers(
    client: TestClient, store: StoreFixture, worker: Worker
) -> None:
    added = {"product_id": "p-9", "price": 5, "quantity": 1}
    ok(
        send(
            client,
            store,
            "/v1/track",
            {"anonymousId": "cart-visitor", "event": "Product Added", "properties": added},
        )
    )
    worker.drain()
    (cart,) = json_of(client.get("/v1/carts", headers=store.headers))["items"]
    visitor = cart["contactId"]
    ok(send(client, store, "/v1/identify", {"userId": "buyer", "anonymousId": "cart-visitor"}))
    ok(send(client, store, "/v1/track", track("Order Completed", {"order_id": "o-9"}, "buyer")))
    worker.drain()
    (cart,) = json_of(client.get("/v1/carts", headers=store.headers))["items"]
    (placed,) = json_of(client.get("/v1/orders", headers=store.headers))["items"]
    assert cart["contactId"] == placed["contactId"] != visitor
    assert cart["status"] == "converted"


def test_an_anonymous_profile_is_announced_only_once_identified(
    client: TestClient, store: StoreFixture, db: Any
) -> None:
    from sqlalchemy import select

    from cartwheel.models import OutboxMessage
    from cartwheel.outbox import CONTACT_CREATED, CONTACT_MERGED

    def topics() -> list[str]:
        with db.read() as session:
            query = select(OutboxMessage.topic).where(OutboxMessage.store_id == store.store_id)
            return sorted(t for t in session.scalars(query) if t.startswith("contact_"))

    ok(send(client, store, "/v1/track", {"anonymousId": "quiet", "event": "Browsed"}))
    assert topics() == []  # no contact_created webhook, no segment check for a visitor
    ok(send(client, store, "/v1/identify", {"userId": "loud", "anonymousId": "quiet"}))
    assert topics() == [CONTACT_CREATED, CONTACT_MERGED]


def test_the_same_ids_in_two_stores_are_two_people(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    for each in (store, other_store):
        ok(send(client, each, "/v1/track", {"anonymousId": "shared-device", "event": "Seen"}))
    ok(
        send(
            client, store, "/v1/identify", {"userId": "shared-user", "anonymousId": "shared-device"}
        )
    )
    # Store B's visitor is still anonymous, unmerged, with its own event.
    assert json_of(client.get("/v1/contact-merges", headers=other_store.headers))["items"] == []
    assert json_of(client.get("/v1/contacts", headers=other_store.headers))["totalCount"] == 0
    (theirs,) = events(client, other_store)
    (mine,) = by_name(client, store, "Seen")
    assert theirs["contactId"] != mine["contactId"]
    merges = json_of(client.get("/v1/contact-merges", headers=store.headers))["items"]
    assert [m["reason"] for m in merges] == ["anonymous shared-device"]


def test_segments_hold_no_anonymous_profile_until_it_is_identified(
    client: TestClient, store: StoreFixture, worker: Worker
) -> None:
    from tests.segments.helpers import create_segment, member_ids

    segment = create_segment(client, store, {"event": "Browsed"})
    ok(send(client, store, "/v1/track", {"anonymousId": "seg-visitor", "event": "Browsed"}))
    worker.drain()
    assert member_ids(client, store, segment["id"]) == set()
    ok(send(client, store, "/v1/identify", {"userId": "seg-user", "anonymousId": "seg-visitor"}))
    worker.drain()
    (identify,) = by_name(client, store, "identify")
    assert member_ids(client, store, segment["id"]) == {identify["contactId"]}
    # A segment built afresh sees the same.
    rebuilt = create_segment(client, store, {"event": "Browsed"}, name="Again")
    assert member_ids(client, store, rebuilt["id"]) == {identify["contactId"]}


def test_checkout_started_and_order_cancelled(
    client: TestClient, store: StoreFixture, worker: Worker
) -> None:
    item = {"product_id": "p-5", "price": 8, "quantity": 3}
    checkout = {"order_id": "o-5", "value": 24, "currency": "USD", "products": [item]}
    ok(send(client, store, "/v1/track", track("Checkout Started", checkout)))
    worker.drain()
    (cart,) = json_of(client.get("/v1/carts", headers=store.headers))["items"]
    assert (cart["status"], cart["total"], cart["totalProducts"]) == ("open", 24.0, 3)
    ok(send(client, store, "/v1/track", track("Order Updated", {"order_id": "o-5", "total": 24})))
    ok(send(client, store, "/v1/track", track("Order Cancelled", {"order_id": "o-5"})))
    worker.drain()
    (order,) = json_of(client.get("/v1/orders", headers=store.headers))["items"]
    assert (order["total"], order["status"]) == (24.0, "canceled")
