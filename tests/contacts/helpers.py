"""Shared by the people-side tests (contacts, members, forms, bookings, lists)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import OutboxMessage
from tests.conftest import StoreFixture, json_of

#: Bad ``limit``/``skip`` values and the 400 message each gets, on every list endpoint.
PAGINATION_ERRORS = [
    ("limit=0", "The limit parameter must be between 1 and 50."),
    ("limit=51", "The limit parameter must be between 1 and 50."),
    ("limit=abc", "The limit parameter must be an integer."),
    ("skip=-1", "The skip parameter must be at least 0."),
    ("skip=abc", "The skip parameter must be an integer."),
]


def outbox(db: Database, store_id: int, topic: str) -> list[dict[str, Any]]:
    """Payloads of the store's outbox messages on ``topic``, oldest first."""
    with db.read() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.store_id == store_id, OutboxMessage.topic == topic)
            .order_by(OutboxMessage.id)
        )
        return [dict(row.payload) for row in rows]


def create_contact(client: TestClient, store: StoreFixture, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/contacts", json=fields, headers=store.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = json_of(response)
    return body


def error(response: Any, status: int) -> str:
    """The native error message of ``response``, after checking its status and shape."""
    assert response.status_code == status, response.text
    body = json_of(response)
    assert body["success"] is False
    message: str = body["message"]
    return message


def assert_pagination(
    client: TestClient, store: StoreFixture, path: str, ids: list[int], key: str = "id"
) -> None:
    """``path`` pages ``ids`` (in order) with the document's envelope, defaults and edges."""
    body = json_of(client.get(path, headers=store.headers))
    assert (body["limit"], body["skip"], body["totalCount"]) == (30, 0, len(ids))
    assert [item[key] for item in body["items"]] == ids[:30]
    separator = "&" if "?" in path else "?"
    page = json_of(client.get(f"{path}{separator}limit=1&skip=1", headers=store.headers))
    assert (page["limit"], page["skip"], page["totalCount"]) == (1, 1, len(ids))
    assert [item[key] for item in page["items"]] == ids[1:2]
    beyond = json_of(client.get(f"{path}{separator}skip={len(ids)}", headers=store.headers))
    assert beyond["items"] == [] and beyond["totalCount"] == len(ids)
    for query, message in PAGINATION_ERRORS:
        response = client.get(f"{path}{separator}{query}", headers=store.headers)
        assert error(response, 400) == message, query
