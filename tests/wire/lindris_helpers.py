"""Helpers shared by the Lindris wire tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import Event
from tests.conftest import StoreFixture, json_of


def post(
    client: TestClient, store: StoreFixture, path: str, body: dict[str, Any] | bytes
) -> Response:
    if isinstance(body, bytes):
        headers = {**store.headers, "Content-Type": "application/json"}
        return client.post(path, content=body, headers=headers)
    return client.post(path, json=body, headers=store.headers)


def accepted(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = json_of(response)
    assert body["success"] is True and isinstance(body["timestamp"], int)
    return body


def invalid(response: Response) -> dict[str, list[str]]:
    """The ``errors`` of a Laravel 422 answer."""
    assert response.status_code == 422, response.text
    body = json_of(response)
    assert set(body) == {"message", "errors"} and body["message"] == "The given data was invalid."
    errors: dict[str, list[str]] = body["errors"]
    return errors


def contacts(client: TestClient, store: StoreFixture, **query: str) -> list[dict[str, Any]]:
    response = client.get("/v1/contacts", params=query, headers=store.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = json_of(response)["items"]
    return items


def by_email(client: TestClient, store: StoreFixture, email: str) -> dict[str, Any] | None:
    """``GET /v1/contacts?email=``: the one contact with this email, or None (a 404)."""
    response = client.get("/v1/contacts", params={"email": email}, headers=store.headers)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    contact: dict[str, Any] = json_of(response)
    return contact


def contact_by_uuid(client: TestClient, store: StoreFixture, uuid: str) -> dict[str, Any]:
    (found,) = [c for c in contacts(client, store, limit="50") if c["uuid"] == uuid]
    return found


def contact_events(client: TestClient, store: StoreFixture, contact_id: int) -> list[Any]:
    response = client.get(f"/v1/contacts/{contact_id}/events", headers=store.headers)
    assert response.status_code == 200, response.text
    items: list[Any] = json_of(response)["items"]
    return items


def stored_events(db: Database, store: StoreFixture) -> list[Event]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Event).where(Event.store_id == store.store_id).order_by(Event.id)
            )
        )
