"""The queue-failure endpoints: listing, replay of one and of all, tenancy on every path,
and clear 400s for bad input. Failures are written as the worker writes them, under a
handler name no worker runs (so no other test's worker pass picks them up)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from cartwheel.db import Database
from cartwheel.models import QueueFailure
from cartwheel.models.base import utcnow
from tests.conftest import StoreFixture, json_of

HANDLER = "tests.never_registered"


def add_failure(db: Database, store_id: int, queue: str = "events", status: str = "failed") -> int:
    now = utcnow()
    failed = status == "failed"
    with db.transaction() as session:
        return int(
            session.execute(
                insert(QueueFailure)
                .values(
                    store_id=store_id,
                    queue=queue,
                    row_id=str(now.timestamp()),
                    handler=HANDLER,
                    status=status,
                    attempts=10 if failed else 2,
                    last_error="RuntimeError: receiver down",
                    next_attempt_at=None if failed else now + timedelta(minutes=5),
                    created_at=now,
                    last_attempt_at=now,
                    failed_at=now if failed else None,
                )
                .returning(QueueFailure.id)
            ).scalar_one()
        )


def test_lists_failures_newest_first_with_their_details(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    first = add_failure(db, store.store_id, "events")
    second = add_failure(db, store.store_id, "outbox", status="pending")
    add_failure(db, other_store.store_id)

    body = json_of(client.get("/v1/queue-failures", headers=store.headers))
    assert [item["id"] for item in body["items"]] == [second, first]
    assert body["totalCount"] == 2
    item = body["items"][1]
    assert item["queue"] == "events" and item["handler"] == HANDLER
    assert (item["status"], item["attempts"], item["nextAttemptOn"]) == ("failed", 10, None)
    assert item["lastError"] == "RuntimeError: receiver down" and item["failedOn"]
    assert body["items"][0]["nextAttemptOn"] and body["items"][0]["failedOn"] is None

    only = json_of(client.get("/v1/queue-failures?queue=outbox", headers=store.headers))
    assert [i["id"] for i in only["items"]] == [second]
    failed = json_of(client.get("/v1/queue-failures?status=failed", headers=store.headers))
    assert [i["id"] for i in failed["items"]] == [first]
    one = json_of(client.get(f"/v1/queue-failures/{first}", headers=store.headers))
    assert one == item


@pytest.mark.parametrize(
    "query",
    ["queue=bogus", "status=done", "limit=0", "limit=x", "skip=-1"],
)
def test_bad_filters_are_a_clear_400(client: TestClient, store: StoreFixture, query: str) -> None:
    response = client.get(f"/v1/queue-failures?{query}", headers=store.headers)
    assert response.status_code == 400, response.text
    assert json_of(response)["message"]


def test_replay_of_one_failure(client: TestClient, db: Database, store: StoreFixture) -> None:
    failure_id = add_failure(db, store.store_id)
    response = client.post(f"/v1/queue-failures/{failure_id}/replay", headers=store.headers)
    assert response.status_code == 202
    body = json_of(response)
    assert (body["status"], body["attempts"], body["failedOn"]) == ("pending", 0, None)
    assert body["nextAttemptOn"] == body["lastAttemptOn"]  # due at once

    again = client.post(f"/v1/queue-failures/{failure_id}/replay", headers=store.headers)
    assert again.status_code == 409  # already being retried


def test_replay_of_all_failed_rows_of_the_store(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    events = [add_failure(db, store.store_id, "events") for _ in range(2)]
    outbox = add_failure(db, store.store_id, "outbox")
    retrying = add_failure(db, store.store_id, "events", status="pending")
    theirs = add_failure(db, other_store.store_id)

    replay = "/v1/queue-failures/replay"
    response = client.post(f"{replay}?queue=events", headers=store.headers)
    assert response.status_code == 202 and json_of(response) == {"replayed": 2}
    assert json_of(client.post(replay, headers=store.headers)) == {"replayed": 1}  # outbox
    assert json_of(client.post(replay, headers=store.headers)) == {"replayed": 0}
    assert client.post(f"{replay}?queue=nope", headers=store.headers).status_code == 400

    def status(fid: int, who: StoreFixture) -> str:
        return str(json_of(client.get(f"/v1/queue-failures/{fid}", headers=who.headers))["status"])

    assert {status(fid, store) for fid in [*events, outbox, retrying]} == {"pending"}
    assert status(theirs, other_store) == "failed"  # another store's dead letter: untouched


@pytest.mark.parametrize("method,suffix", [("GET", ""), ("POST", "/replay")])
def test_another_stores_failure_is_a_404(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
    method: str,
    suffix: str,
) -> None:
    theirs = add_failure(db, other_store.store_id)
    for failure_id in (str(theirs), "0", "abc", "99999999999999999999"):
        response = client.request(
            method, f"/v1/queue-failures/{failure_id}{suffix}", headers=store.headers
        )
        assert response.status_code == 404, (failure_id, response.text)
    listed = json_of(client.get("/v1/queue-failures", headers=store.headers))
    assert theirs not in [item["id"] for item in listed["items"]]
    mine = client.get(f"/v1/queue-failures/{theirs}", headers=other_store.headers)
    assert mine.status_code == 200


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/v1/queue-failures"),
        ("GET", "/v1/queue-failures/1"),
        ("POST", "/v1/queue-failures/1/replay"),
        ("POST", "/v1/queue-failures/replay"),
    ],
)
def test_every_endpoint_needs_a_secret_key(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, path).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert client.request(method, path, headers=bad).status_code == 401
