"""Ingesting events and making contacts for the segment tests, through the real writer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.properties import split_properties
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture


def track(
    runtime: Runtime,
    store_id: int,
    email: str | None,
    name: str,
    *,
    phone: str | None = None,
    at: datetime | None = None,
    properties: dict[str, Any] | None = None,
    value: float | None = None,
    category: str | None = None,
    action: str | None = None,
    fields: dict[str, Any] | None = None,
    custom: dict[str, Any] | None = None,
    entity: dict[str, Any] | None = None,
    silent: bool = False,
) -> int:
    """Store one event for the person with ``email``; returns the contact id."""
    hints = IdentityHints()
    if email is not None:
        hints.add("email", email)
    if phone is not None:
        hints.add("phone", phone)
    split = split_properties(properties or {})
    profile = ProfilePatch(fields=fields or {}, custom_fields=custom or {})
    event = CanonicalEvent(
        store_id=store_id,
        name=name,
        identity=hints,
        category=category,
        action=action,
        occurred_at=at,
        profile=None if profile.is_empty() else profile,
        properties=split.properties,
        property_types=split.property_types,
        value=value,
        entity=entity,
        silent=silent,
    )
    (result,) = runtime.writer.submit_sync([event])
    contact_id = getattr(result, "contact_id", None)
    assert isinstance(contact_id, int), result
    return contact_id


def create_contact(client: TestClient, store: StoreFixture, **body: Any) -> int:
    response = client.post("/v1/contacts", json=body, headers=store.headers)
    assert response.status_code in (200, 201), response.text
    return int(response.json()["id"])


def create_segment(
    client: TestClient, store: StoreFixture, condition: Any, name: str = "S"
) -> dict[str, Any]:
    response = client.post(
        "/v1/segments", json={"name": name, "condition": condition}, headers=store.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def member_ids(client: TestClient, store: StoreFixture, segment_id: int) -> set[int]:
    response = client.get(
        f"/v1/segments/{segment_id}/contacts", params={"limit": 50}, headers=store.headers
    )
    assert response.status_code == 200, response.text
    return {item["contactId"] for item in response.json()["items"]}


def listen(client: TestClient, store: StoreFixture) -> None:
    """Subscribe a webhook to the store's segment entries and exits: the worker writes a
    transition to the outbox only where someone reads it. Its receiver (a closed port)
    never answers; the tests read the outbox, not the deliveries."""
    response = client.post(
        "/v1/webhooks",
        json={"target": "http://127.0.0.1:9/hook", "events": ["segment_entered", "segment_exited"]},
        headers=store.headers,
    )
    assert response.status_code == 201, response.text
