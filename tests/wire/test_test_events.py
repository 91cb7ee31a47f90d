"""Test events (``test: true``) validate and answer without the ingest writer and without
the database's write lock: they resolve in a read-only transaction and store nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from cartwheel.db import Database
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture, json_of
from tests.wire.lindris_helpers import stored_events


def _within(seconds: float, send: Any) -> Response:
    """``send()`` on another thread: a request waiting for the write lock would hang."""
    answers: list[Response] = []
    thread = threading.Thread(target=lambda: answers.append(send()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert answers, "the test event waited for the write lock"
    return answers[0]


def test_a_known_contact_is_resolved_while_the_writer_is_blocked(
    client: TestClient, db: Database, runtime: Runtime, store: StoreFixture
) -> None:
    body = {"name": "Signed Up", "contact": {"email": "ann@example.com"}}
    known = json_of(client.post("/v1/events", json=body, headers=store.headers))
    with _blocked(runtime, db):
        response = _within(
            10,
            lambda: client.post("/v1/events", json={**body, "test": True}, headers=store.headers),
        )
    assert response.status_code == 202, response.text
    answer = json_of(response)
    assert answer["id"] is None and answer["duplicate"] is False
    assert (answer["contactId"], answer["contactUuid"]) == (
        known["contactId"],
        known["contactUuid"],
    )
    assert len(stored_events(db, store)) == 1


def test_native_test_events_answer_without_the_writer(
    client: TestClient, db: Database, runtime: Runtime, store: StoreFixture
) -> None:
    body = {"name": "Signed Up", "test": True, "contact": {"email": "new@example.com"}}
    batch = {"events": [body, {**body, "name": ""}]}
    with _blocked(runtime, db):
        single = _within(10, lambda: client.post("/v1/events", json=body, headers=store.headers))
        many = _within(
            10, lambda: client.post("/v1/events/batch", json=batch, headers=store.headers)
        )
    assert single.status_code == 202, single.text
    assert json_of(single)["id"] is None and json_of(single)["contactId"] is None
    assert many.status_code == 202, many.text
    results = json_of(many)["results"]
    assert [r["accepted"] for r in results] == [True, False]
    assert results[0].get("id") is None  # a test event: no id
    assert stored_events(db, store) == []


def test_lindris_test_events_answer_without_the_writer(
    client: TestClient, db: Database, runtime: Runtime, store: StoreFixture
) -> None:
    body = {"eventName": "signup", "email": "cy@example.com", "source": "shop", "test": True}
    with _blocked(runtime, db):
        response = _within(10, lambda: client.post("/api/events", json=body, headers=store.headers))
        # Validation still runs: an invalid test event is the same 422 as a real one.
        invalid = _within(
            10, lambda: client.post("/api/events", json={"test": True}, headers=store.headers)
        )
    assert response.status_code == 200, response.text
    assert json_of(response)["success"] is True
    assert invalid.status_code == 422
    assert stored_events(db, store) == []


class _blocked:
    """While inside: the writer refuses every submission, and an open writing transaction
    holds the write lock (SQLite's ``BEGIN IMMEDIATE`` and this process's write lock)."""

    def __init__(self, runtime: Runtime, db: Database) -> None:
        self._patch = pytest.MonkeyPatch()
        self._runtime = runtime
        self._connection = db.write_connection()

    def __enter__(self) -> None:
        def refuse(_events: Any) -> Any:
            raise AssertionError("a test event reached the ingest writer")

        self._patch.setattr(self._runtime.writer, "submit_nowait", refuse)
        self._connection.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._connection.__exit__(None, None, None)
        self._patch.undo()
