"""Delivery against a real HTTP receiver on 127.0.0.1: signatures, payloads, retries,
ordering, leases, two workers, redirects, Retry-After, disabling and replays."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from standardwebhooks import Webhook, WebhookVerificationError

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import WebhookDelivery, WebhookSubscription
from cartwheel.webhooks.delivery import DeliveryTask
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of
from tests.webhooks.conftest import (
    Clock,
    Receiver,
    create_webhook,
    deliveries,
    emit,
    failing,
    run,
    serve,
)

ORDER = {
    "id": 1234,
    "invoiceNo": 15,
    "created": 1573397217,
    "customerName": "John Doe",
    "customerEmail": "john@email.com",
    "total": 49,
    "status": "completed",
}


def queue_orders(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    webhook_id: str,
    count: int,
) -> None:
    """Queue ``order_created`` deliveries {"id": 0…count-1} without sending them: pause,
    fan out, resume (the queue head is due at once)."""
    client.post(f"/v1/webhooks/{webhook_id}/pause", headers=store.headers)
    for n in range(count):
        emit(db, store.store_id, "order_created", {"id": n})
    worker.drain()
    client.post(f"/v1/webhooks/{webhook_id}/resume", headers=store.headers)


def test_delivery_verifies_with_standardwebhooks(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    created = create_webhook(client, store, receiver.url, ["order_created"])
    emit(db, store.store_id, "order_created", ORDER)
    worker.drain()
    [request] = receiver.requests
    assert Webhook(created["secret"]).verify(request.body, request.headers) == ORDER
    assert request.message_id.startswith("msg_")
    assert request.headers["cartwheel-event"] == "order_created"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("Cartwheel-Webhooks/")
    tampered = request.body.replace(b"49", b"50")
    try:
        Webhook(created["secret"]).verify(tampered, request.headers)
        raise AssertionError("a tampered body verified")
    except WebhookVerificationError:
        pass


def test_merchant_secret_signs_as_its_utf8_bytes(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    create_webhook(client, store, receiver.url, ["order_updated"], secret="your-secret")
    emit(db, store.store_id, "order_updated", ORDER)
    worker.drain()
    [request] = receiver.requests
    assert Webhook(b"your-secret").verify(request.body, request.headers) == ORDER


def test_only_subscribed_event_types_are_delivered(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    create_webhook(client, store, receiver.url, ["product_created", "booking_created"])
    emit(db, store.store_id, "order_created", ORDER)
    emit(db, store.store_id, "product_created", {"id": 111, "title": "Interior Door"})
    emit(db, store.store_id, "booking_created", {"id": 206, "eventId": 98146})
    worker.drain()
    assert [r.headers["cartwheel-event"] for r in receiver.requests] == [
        "product_created",
        "booking_created",
    ]


def test_tracked_events_honour_the_name_filter_and_skip_silent_ones(
    client: TestClient, store: StoreFixture, worker: Worker, receiver: Receiver
) -> None:
    create_webhook(client, store, receiver.url, ["event_tracked"], eventNames=["Placed Order"])
    for name, silent in (
        ("Viewed Product", False),
        ("Placed Order", True),
        ("Placed Order", False),
    ):
        response = client.post(
            "/v1/events",
            json={
                "name": name,
                "contact": {"email": "jane@doe.com"},
                "properties": {"total": 49},
                "silent": silent,
            },
            headers=store.headers,
        )
        assert response.status_code == 202, response.text
    worker.drain()
    [request] = receiver.requests
    body = request.json
    assert body["name"] == "Placed Order" and body["properties"] == {"total": 49}
    assert request.headers["cartwheel-event"] == "event_tracked"
    assert isinstance(body["contactId"], int)


def test_contact_messages_are_rendered_from_the_contact(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    events = ["contact_created", "contact_merged", "contact_deleted", "contact_updated"]
    create_webhook(client, store, receiver.url, events)
    response = client.post(
        "/v1/events",
        json={"name": "Signed Up", "contact": {"email": "new@shop.test"}},
        headers=store.headers,
    )
    contact_id = json_of(response)["contactId"]
    worker.drain()
    emit(db, store.store_id, "contact_merged", {"contact_id": contact_id, "merged_contact_id": 7})
    emit(db, store.store_id, "contact_updated", {"id": contact_id, "name": "As the API shows it"})
    emit(db, store.store_id, "contact_deleted", {"contact_id": 999999})
    worker.drain()
    by_type = {r.headers["cartwheel-event"]: r.json for r in receiver.requests}
    assert by_type["contact_created"]["id"] == contact_id
    assert by_type["contact_created"]["email"] == "new@shop.test"
    assert by_type["contact_merged"]["contact"]["id"] == contact_id
    assert by_type["contact_merged"]["mergedContactId"] == 7
    assert by_type["contact_updated"] == {"id": contact_id, "name": "As the API shows it"}
    assert by_type["contact_deleted"] == {"id": 999999}


def test_segment_membership_changes_are_delivered_signed(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    created = create_webhook(client, store, receiver.url, ["segment_entered"])
    emit(db, store.store_id, "segment_entered", {"segment_id": 7, "contact_id": 123})
    emit(db, store.store_id, "segment_exited", {"segment_id": 7, "contact_id": 123})
    worker.drain()
    [request] = receiver.requests  # segment_exited is not subscribed
    assert request.headers["cartwheel-event"] == "segment_entered"
    assert Webhook(created["secret"]).verify(request.body, request.headers) == {
        "segmentId": 7,
        "contactId": 123,
    }


def test_receiver_that_recovers_gets_everything_once_and_in_order(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    task: DeliveryTask,
    clock: Clock,
) -> None:
    with serve(Receiver(failing(3))) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        queue_orders(client, store, db, worker, created["id"], 3)
        for _ in range(6):
            run(task, db)
            clock.advance(3600)
    # Message 1 never left before message 0 succeeded (after three failures).
    assert [r.json["id"] for r in receiver.requests] == [0, 0, 0, 0, 1, 2]
    assert [r.json["id"] for r in receiver.delivered] == [0, 1, 2]
    assert len({r.message_id for r in receiver.delivered}) == 3
    # Every retry of a message carries the same webhook-id.
    assert len({r.message_id for r in receiver.requests[:4]}) == 1
    page = deliveries(client, store, created["id"])
    assert page["totalCount"] == 3
    first = page["items"][-1]
    assert first["status"] == "succeeded" and first["attemptCount"] == 4
    assert [a["responseCode"] for a in first["attempts"]] == [500, 500, 500, 200]
    assert [a["succeeded"] for a in first["attempts"]] == [False, False, False, True]
    assert first["attempts"][0]["error"] == "HTTP 500"
    assert first["attempts"][0]["responseBody"] == "down"
    assert first["responseCode"] == 200 and first["error"] is None
    assert first["nextAttemptAt"] is None and first["completedOn"] is not None
    assert isinstance(first["latencyMs"], int)
    assert first["payload"] == {"id": 0} and first["messageId"] == receiver.requests[0].message_id


def test_first_retry_comes_within_seconds_and_backoff_grows(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    task: DeliveryTask,
    clock: Clock,
) -> None:
    with serve(Receiver(failing(100))) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        queue_orders(client, store, db, worker, created["id"], 1)
        waits = []
        for _ in range(4):
            run(task, db)
            item = deliveries(client, store, created["id"])["items"][0]
            next_at = datetime.fromisoformat(item["nextAttemptAt"])
            waits.append((next_at - clock.now).total_seconds())
            clock.now = next_at
    assert 4 <= waits[0] <= 6.5
    assert waits == sorted(waits)
    assert len(receiver.requests) == 4


def test_receiver_that_never_recovers_disables_the_subscription(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    task: DeliveryTask,
    clock: Clock,
) -> None:
    answers: dict[str, int] = {"status": 500}
    receiver = Receiver(lambda n: (answers["status"], {}, b""))
    with serve(receiver):
        created = create_webhook(client, store, receiver.url, ["order_created"])
        url = f"/v1/webhooks/{created['id']}"
        queue_orders(client, store, db, worker, created["id"], 2)
        started = clock.now
        for _ in range(15):
            run(task, db)
            clock.advance(15 * 3600)
        webhook = client.get(url, headers=store.headers).json()
        # The default schedule: 1 attempt + 10 retries, spread over about a day.
        assert [r.json["id"] for r in receiver.requests] == [0] * 11
        assert webhook["status"] == "disabled"
        assert "failed 11 times" in webhook["disabledReason"]
        assert "HTTP 500" in webhook["disabledReason"]
        items = deliveries(client, store, created["id"])["items"]
        assert [(d["payload"]["id"], d["status"]) for d in items] == [
            (1, "pending"),
            (0, "failed"),
        ]
        span = datetime.fromisoformat(items[1]["completedOn"]) - started
        assert timedelta(hours=20) < span
        # While disabled, new changes are not queued for it.
        emit(db, store.store_id, "order_created", {"id": 2})
        worker.drain()
        assert deliveries(client, store, created["id"])["totalCount"] == 2
        # Re-enabled by the merchant: the queue goes on at once, the failed one can be replayed.
        answers["status"] = 200
        resumed = client.post(f"{url}/resume", headers=store.headers)
        assert json_of(resumed)["status"] == "active" and resumed.json()["disabledReason"] is None
        run(task, db)
        emit(db, store.store_id, "order_created", {"id": 3})
        worker.drain()
        run(task, db)
        replay = client.post(f"{url}/deliveries/{items[1]['id']}/replay", headers=store.headers)
        assert replay.status_code == 202
        run(task, db)
    assert [r.json["id"] for r in receiver.delivered] == [1, 3, 0]


def test_410_gone_disables_at_once(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    task: DeliveryTask,
    clock: Clock,
) -> None:
    with serve(Receiver(lambda n: (410, {}, b"gone"))) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        emit(db, store.store_id, "order_created", {"id": 1})
        worker.drain()
        clock.advance(3600)
        run(task, db)
    assert len(receiver.requests) == 1
    webhook = client.get(f"/v1/webhooks/{created['id']}", headers=store.headers).json()
    assert webhook["status"] == "disabled"
    assert webhook["disabledReason"] == "The target answered 410 Gone."
    assert deliveries(client, store, created["id"])["items"][0]["status"] == "failed"


def test_worker_killed_mid_batch_loses_nothing(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    task: DeliveryTask,
    clock: Clock,
    receiver: Receiver,
) -> None:
    created = create_webhook(client, store, receiver.url, ["order_created"])
    queue_orders(client, store, db, worker, created["id"], 3)
    ours = [b for b in task.claim(db) if b[0].target == receiver.url]
    [batch] = ours
    assert [c.body for c in batch] == ['{"id":0}', '{"id":1}', '{"id":2}']
    # The worker sent the first one and died before recording anything.
    assert task.send(batch[0]).succeeded
    # While the lease holds, nobody else sends them.
    run(task, db)
    assert len(receiver.requests) == 1
    clock.advance(task.lease_seconds + 1)
    run(task, db)
    # At least once: message 0 comes again, under the same webhook-id; nothing is lost.
    assert [r.json["id"] for r in receiver.requests] == [0, 0, 1, 2]
    assert receiver.requests[0].message_id == receiver.requests[1].message_id
    statuses = [d["status"] for d in deliveries(client, store, created["id"])["items"]]
    assert statuses == ["succeeded"] * 3


def test_two_workers_never_send_the_same_attempt_twice(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    settings: Settings,
    worker: Worker,
    receiver: Receiver,
) -> None:
    paths = ["a", "b", "c", "d"]
    ids = [
        create_webhook(client, store, f"{receiver.url}/{p}", ["order_created"])["id"] for p in paths
    ]
    for webhook_id in ids:
        client.post(f"/v1/webhooks/{webhook_id}/pause", headers=store.headers)
    for n in range(25):
        emit(db, store.store_id, "order_created", {"id": n})
    worker.drain()
    for webhook_id in ids:
        client.post(f"/v1/webhooks/{webhook_id}/resume", headers=store.headers)

    expected = len(paths) * 25
    databases = [Database(settings.database_url), Database(settings.database_url)]
    tasks = [DeliveryTask(settings, per_subscription=3) for _ in databases]
    errors: list[BaseException] = []

    def loop(task: DeliveryTask, database: Database) -> None:
        deadline = time.monotonic() + 30
        try:
            while len(receiver.delivered) < expected and time.monotonic() < deadline:
                if task(database) == 0:
                    time.sleep(0.01)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=loop, args=pair) for pair in zip(tasks, databases, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for task, database in zip(tasks, databases, strict=True):
        task.close()
        database.dispose()
    assert errors == []
    sent = Counter((r.path, r.message_id) for r in receiver.requests)
    assert len(sent) == expected and set(sent.values()) == {1}
    for path in paths:
        got = [r.json["id"] for r in receiver.requests if r.path.endswith("/" + path)]
        assert got == list(range(25)), path


def test_redirects_are_not_followed(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    with serve(Receiver(lambda n: (302, {"Location": receiver.url}, b""))) as redirecting:
        created = create_webhook(client, store, redirecting.url, ["order_created"])
        emit(db, store.store_id, "order_created", {"id": 1})
        worker.drain()
    assert len(redirecting.requests) == 1 and receiver.requests == []
    item = deliveries(client, store, created["id"])["items"][0]
    assert item["status"] == "pending" and item["responseCode"] == 302
    assert item["error"].startswith("HTTP 302: redirects are not followed")
    assert item["nextAttemptAt"] is not None


def test_retry_after_is_honoured(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    task: DeliveryTask,
    clock: Clock,
) -> None:
    def respond(n: int) -> tuple[int, dict[str, str], bytes]:
        return (503, {"Retry-After": "120"}, b"") if n == 1 else (200, {}, b"")

    with serve(Receiver(respond)) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        queue_orders(client, store, db, worker, created["id"], 1)
        run(task, db)
        item = deliveries(client, store, created["id"])["items"][0]
        wait = datetime.fromisoformat(item["nextAttemptAt"]) - clock.now
        assert timedelta(seconds=120) <= wait <= timedelta(seconds=121)
        clock.advance(119)
        run(task, db)
        assert len(receiver.requests) == 1
        clock.advance(2)
        run(task, db)
    assert [r.status for r in receiver.requests] == [503, 200]


def test_response_body_is_kept_up_to_4_kb(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker
) -> None:
    with serve(Receiver(lambda n: (500, {}, b"x" * 10_000))) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        emit(db, store.store_id, "order_created", {"id": 1})
        worker.drain()
    attempt = deliveries(client, store, created["id"])["items"][0]["attempts"][0]
    assert attempt["responseBody"] == "x" * 4096 and attempt["responseCode"] == 500


def test_slow_receiver_times_out(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    settings: Settings,
    clock: Clock,
) -> None:
    def slow(n: int) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.0)
        return 200, {}, b""

    with serve(Receiver(slow)) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        queue_orders(client, store, db, worker, created["id"], 1)
        impatient = DeliveryTask(
            settings.model_copy(update={"webhook_timeout_seconds": 0.2}), clock=clock
        )
        run(impatient, db)
        impatient.close()
    item = deliveries(client, store, created["id"])["items"][0]
    assert item["status"] == "pending" and item["responseCode"] is None
    assert item["error"].startswith("Timed out")


def test_replay_one_delivery(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    created = create_webhook(client, store, receiver.url, ["order_created"])
    emit(db, store.store_id, "order_created", {"id": 1})
    worker.drain()
    original = deliveries(client, store, created["id"])["items"][0]
    url = f"/v1/webhooks/{created['id']}/deliveries/{original['id']}/replay"
    response = client.post(url, headers=store.headers)
    assert response.status_code == 202
    replay = json_of(response)
    assert replay["replayOf"] == original["id"] and replay["status"] == "pending"
    assert replay["messageId"] == original["messageId"] and replay["payload"] == {"id": 1}
    pending = client.post(
        f"/v1/webhooks/{created['id']}/deliveries/{replay['id']}/replay", headers=store.headers
    )
    assert pending.status_code == 409
    assert json_of(pending)["message"] == "This delivery is still pending; it will be sent."
    worker.drain()
    assert [r.message_id for r in receiver.requests] == [original["messageId"]] * 2
    one = client.get(
        f"/v1/webhooks/{created['id']}/deliveries/{replay['id']}", headers=store.headers
    ).json()
    assert one["status"] == "succeeded" and len(one["attempts"]) == 1


def test_replay_a_time_range(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    task: DeliveryTask,
    clock: Clock,
) -> None:
    with serve(Receiver(lambda n: (410, {}, b"") if n == 3 else (200, {}, b""))) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        url = f"/v1/webhooks/{created['id']}/replay"
        for n in range(3):
            emit(db, store.store_id, "order_created", {"id": n})
        worker.drain()
        start = int(time.time()) - 60
        assert [r.status for r in receiver.requests] == [200, 200, 410]
        client.post(f"/v1/webhooks/{created['id']}/resume", headers=store.headers)
        failed_only = client.post(
            url, json={"from": start, "onlyFailed": True}, headers=store.headers
        )
        assert failed_only.status_code == 202 and json_of(failed_only) == {"replayed": 1}
        clock.catch_up()
        run(task, db)
        everything = client.post(
            url,
            json={"from": datetime.fromtimestamp(start).astimezone().isoformat()},
            headers=store.headers,
        )
        assert json_of(everything) == {"replayed": 3}
        later = client.post(
            url, json={"from": start - 7200, "to": start - 3600}, headers=store.headers
        )
        assert json_of(later) == {"replayed": 0}
        clock.catch_up()
        run(task, db)
    assert [r.json["id"] for r in receiver.delivered] == [0, 1, 2, 0, 1, 2]


def test_replay_range_validation(client: TestClient, store: StoreFixture) -> None:
    created = create_webhook(client, store, "http://127.0.0.1:9/x", ["order_created"])
    url = f"/v1/webhooks/{created['id']}/replay"
    not_an_object = client.post(url, json=[1], headers=store.headers)
    assert not_an_object.status_code == 400
    assert json_of(not_an_object)["message"] == "The request body must be a JSON object."
    for body, field, message in (
        ({}, "from", "The from field is required."),
        ({"from": "yesterday"}, "from", "The from must be Unix seconds or an ISO-8601 date-time."),
        ({"from": 10, "to": True}, "to", "The to must be Unix seconds or an ISO-8601 date-time."),
        ({"from": 10, "to": 5}, "to", "The to must not be before from."),
        (
            {"from": 10, "onlyFailed": "yes"},
            "onlyFailed",
            "The onlyFailed field must be true or false.",
        ),
    ):
        response = client.post(url, json=body, headers=store.headers)
        assert response.status_code == 422, body
        assert json_of(response)["errors"] == {field: [message]}


def test_delivery_list_filters_by_status(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    created = create_webhook(client, store, receiver.url, ["order_created"])
    for n in range(3):
        emit(db, store.store_id, "order_created", {"id": n})
    worker.drain()
    page = deliveries(client, store, created["id"], status="succeeded", limit=2)
    assert page["totalCount"] == 3 and len(page["items"]) == 2
    assert [d["payload"]["id"] for d in page["items"]] == [2, 1]
    assert deliveries(client, store, created["id"], status="failed")["totalCount"] == 0
    bad = client.get(f"/v1/webhooks/{created['id']}/deliveries?status=done", headers=store.headers)
    assert bad.status_code == 400
    assert json_of(bad)["message"] == (
        "The status parameter must be one of pending, succeeded, failed."
    )


def test_one_stores_events_never_reach_another_stores_webhooks(
    client: TestClient,
    store: StoreFixture,
    other_store: StoreFixture,
    db: Database,
    worker: Worker,
) -> None:
    with serve(Receiver()) as mine, serve(Receiver()) as theirs:
        events = ["order_created", "event_tracked", "contact_created"]
        create_webhook(client, store, mine.url, events)
        create_webhook(client, other_store, theirs.url, events)
        emit(db, store.store_id, "order_created", ORDER)
        client.post(
            "/v1/events",
            json={"name": "Placed Order", "contact": {"email": "a@shop.test"}},
            headers=store.headers,
        )
        worker.drain()
    assert sorted(r.headers["cartwheel-event"] for r in mine.requests) == sorted(events)
    assert theirs.requests == []


def test_another_store_cannot_see_or_replay_deliveries(
    client: TestClient,
    store: StoreFixture,
    other_store: StoreFixture,
    db: Database,
    worker: Worker,
    receiver: Receiver,
) -> None:
    mine = create_webhook(client, store, receiver.url, ["order_created"])
    theirs = create_webhook(client, other_store, receiver.url, ["order_created"])
    emit(db, store.store_id, "order_created", {"id": 1})
    worker.drain()
    delivery_id = deliveries(client, store, mine["id"])["items"][0]["id"]
    for method, path in (
        ("GET", f"/v1/webhooks/{mine['id']}/deliveries"),
        ("GET", f"/v1/webhooks/{mine['id']}/deliveries/{delivery_id}"),
        ("POST", f"/v1/webhooks/{mine['id']}/deliveries/{delivery_id}/replay"),
        ("GET", f"/v1/webhooks/{theirs['id']}/deliveries/{delivery_id}"),
        ("POST", f"/v1/webhooks/{theirs['id']}/deliveries/{delivery_id}/replay"),
    ):
        response = client.request(method, path, headers=other_store.headers)
        assert response.status_code == 404, path
        assert json_of(response)["message"] in ("Webhook not found.", "Delivery not found.")
    assert deliveries(client, other_store, theirs["id"])["totalCount"] == 0
    assert len(receiver.requests) == 1
    with db.read() as session:
        count = len(
            session.execute(
                select(WebhookDelivery).where(WebhookDelivery.store_id == store.store_id)
            ).all()
        )
    assert count == 1


def test_range_replay_refuses_more_than_10000_deliveries(
    client: TestClient, store: StoreFixture, db: Database
) -> None:
    created = create_webhook(client, store, "http://127.0.0.1:9/x", ["order_created"])
    with db.transaction() as session:
        sub = session.execute(
            select(WebhookSubscription).where(WebhookSubscription.public_id == created["id"])
        ).scalar_one()
        now = datetime.now(UTC)
        session.execute(
            insert(WebhookDelivery),
            [
                {
                    "store_id": store.store_id,
                    "subscription_id": sub.id,
                    "message_id": f"msg_{n}",
                    "event_type": "order_created",
                    "body": "{}",
                    "status": "succeeded",
                    "attempts": 1,
                    "created_at": now,
                }
                for n in range(10_001)
            ],
        )
    response = client.post(
        f"/v1/webhooks/{created['id']}/replay", json={"from": 0}, headers=store.headers
    )
    assert response.status_code == 400
    assert json_of(response)["message"] == (
        "The range holds more than 10000 deliveries; replay a shorter range."
    )
    assert deliveries(client, store, created["id"], status="pending")["totalCount"] == 0


def test_delivery_attempts_are_counted_in_metrics(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    def attempts() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith('cartwheel_webhook_attempts_total{outcome="succeeded"}'):
                return float(line.split()[-1])
        return 0.0

    before = attempts()
    create_webhook(client, store, receiver.url, ["order_created"])
    emit(db, store.store_id, "order_created", {"id": 1})
    worker.drain()
    assert attempts() >= before + 1
    assert "cartwheel_webhook_attempt_seconds_bucket" in client.get("/metrics").text


def test_a_hanging_receiver_does_not_hold_the_worker_loop(
    client: TestClient,
    store: StoreFixture,
    db: Database,
    worker: Worker,
    task: DeliveryTask,
) -> None:
    def slow(n: int) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.0)
        return 200, {}, b""

    with serve(Receiver(slow)) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        queue_orders(client, store, db, worker, created["id"], 1)
        started = time.monotonic()
        in_flight = task(db)
        assert time.monotonic() - started < 0.5
        assert in_flight >= 1  # still sending: reported busy, not finished
        run(task, db)
    assert len(receiver.delivered) == 1
    assert deliveries(client, store, created["id"])["items"][0]["status"] == "succeeded"


def test_store_data_changes_arrive_in_their_api_shape(
    client: TestClient, store: StoreFixture, worker: Worker, receiver: Receiver
) -> None:
    events = ["product_created", "product_updated", "contact_updated"]
    created = create_webhook(client, store, receiver.url, events)
    product = client.post(
        "/v1/products", json={"type": "physical", "title": "Interior Door"}, headers=store.headers
    )
    assert product.status_code == 201, product.text
    updated = client.put(
        f"/v1/products/{product.json()['id']}",
        json={"type": "physical", "title": "Front Door"},
        headers=store.headers,
    )
    assert updated.status_code == 200, updated.text
    contact = client.post(
        "/v1/contacts", json={"email": "john@doe.com", "name": "John Doe"}, headers=store.headers
    )
    assert contact.status_code in (200, 201), contact.text
    worker.drain()
    got = {r.headers["cartwheel-event"]: r for r in receiver.requests}
    assert set(got) == set(events)
    assert got["product_created"].json["title"] == "Interior Door"
    assert got["product_updated"].json["title"] == "Front Door"
    assert got["product_created"].json["id"] == product.json()["id"]
    assert got["contact_updated"].json == contact.json()
    verified = Webhook(created["secret"]).verify(
        got["contact_updated"].body, got["contact_updated"].headers
    )
    assert verified == contact.json()


def test_a_nul_byte_in_the_answer_is_recorded(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker
) -> None:
    with serve(Receiver(lambda n: (500, {}, b"bad\x00byte"))) as receiver:
        created = create_webhook(client, store, receiver.url, ["order_created"])
        emit(db, store.store_id, "order_created", {"id": 1})
        worker.drain()
    assert len(receiver.requests) == 1
    attempt = deliveries(client, store, created["id"])["items"][0]["attempts"][0]
    assert attempt["responseBody"] == "bad\ufffdbyte"


def test_a_paused_webhook_queues_and_sends_on_resume(
    client: TestClient, store: StoreFixture, db: Database, worker: Worker, receiver: Receiver
) -> None:
    created = create_webhook(client, store, receiver.url, ["order_created"])
    url = f"/v1/webhooks/{created['id']}"
    client.post(f"{url}/pause", headers=store.headers)
    for n in range(2):
        emit(db, store.store_id, "order_created", {"id": n})
    worker.drain()
    assert receiver.requests == []
    assert deliveries(client, store, created["id"], status="pending")["totalCount"] == 2
    client.post(f"{url}/resume", headers=store.headers)
    worker.drain()
    assert [r.json["id"] for r in receiver.delivered] == [0, 1]
