"""Property names are single lines in every format: a control character in a name (at any
depth) is the format's 400, and nothing is stored; in a value it is kept."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.models import Event
from tests.conftest import StoreFixture

NAMES = ["a\r\nBcc: x", "tab\there", "nul\x00", "del\x7f", "nel\x85", "ls\u2028"]


def bodies(store: StoreFixture, name: str) -> list[tuple[str, dict[str, object]]]:
    return [
        ("/v1/events", {"name": "x", "contact": {"email": "a@x.io"}, "properties": {name: 1}}),
        ("/api/events", {"eventName": "x", "email": "a@x.io", "source": "s", name: 1}),
        (
            f"/stores/{store.store_id}/events",
            {"eventName": "x", "customer": {"email": "a@x.io"}, "data": {"o": {name: 1}}},
        ),
        (
            "/v5/events",
            {
                "eventName": "x",
                "origin": "api",
                "contact": {"email": "a@x.io"},
                "properties": {name: 1},
            },
        ),
    ]


def stored(db: Database, store: StoreFixture) -> int:
    with db.read() as session:
        return session.execute(
            select(func.count()).select_from(Event).where(Event.store_id == store.store_id)
        ).scalar_one()


@pytest.mark.parametrize("name", NAMES)
def test_a_control_character_in_a_property_name_is_refused(
    client: TestClient, db: Database, store: StoreFixture, name: str
) -> None:
    for path, body in bodies(store, name):
        response = client.post(path, json=body, headers=store.headers)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    assert stored(db, store) == 0


def test_a_control_character_in_a_value_is_kept(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {"name": "x", "contact": {"email": "a@x.io"}, "properties": {"note": "a\r\nb"}}
    assert client.post("/v1/events", json=body, headers=store.headers).status_code == 202
    assert stored(db, store) == 1
