"""A merge's undo after the contacts changed: the survivor deleted, its identifiers given
away or re-created (SQLite reuses row ids), a merged-away id deleted. Undo is refused (409)
rather than leaving a contact that shows an identifier it does not own."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of

PHONE = "+15550107788"


def track(client: TestClient, store: StoreFixture, contact: dict[str, Any]) -> int:
    response = client.post(
        "/v1/events", json={"name": "Viewed", "contact": contact}, headers=store.headers
    )
    assert response.status_code == 202, response.text
    contact_id: int = response.json()["contactId"]
    return contact_id


def merged(client: TestClient, store: StoreFixture, email: str) -> tuple[int, int, int]:
    """A phone-only contact merged into ``email``'s: (merged-away id, survivor id, merge id)."""
    a = track(client, store, {"phone": PHONE})
    b = track(client, store, {"email": email})
    assert track(client, store, {"email": email, "phone": PHONE}) == b
    (merge,) = json_of(client.get(f"/v1/contact-merges?contactId={a}", headers=store.headers))[
        "items"
    ]
    return a, b, merge["id"]


def test_deleting_a_merged_away_id_is_a_404_and_keeps_the_survivor(
    client: TestClient, worker: Worker, store: StoreFixture
) -> None:
    a, b, _ = merged(client, store, "vera@example.com")
    assert client.delete(f"/v1/contacts/{a}", headers=store.headers).status_code == 404
    assert json_of(client.get(f"/v1/contacts/{b}", headers=store.headers))["id"] == b
    assert track(client, store, {"phone": PHONE}) == b


def test_undo_after_the_survivor_was_deleted_is_refused(
    client: TestClient, worker: Worker, store: StoreFixture
) -> None:
    a, b, merge_id = merged(client, store, "wanda@example.com")
    assert client.delete(f"/v1/contacts/{b}", headers=store.headers).status_code == 204
    undone = client.post(f"/v1/contact-merges/{merge_id}/undo", headers=store.headers)
    assert undone.status_code == 409, undone.text
    assert client.get(f"/v1/contacts/{a}", headers=store.headers).status_code == 404
    # The phone is free: it makes one new contact, and keeps resolving to it.
    c = track(client, store, {"phone": PHONE})
    assert c not in (a, b)
    assert track(client, store, {"phone": PHONE}) == c


def test_undo_after_the_moved_identifier_was_replaced_is_refused(
    client: TestClient, worker: Worker, store: StoreFixture
) -> None:
    # The survivor's phone changes: the moved identifier row is deleted and a new one
    # inserted (with the same row id on SQLite). The undo must not take the new phone.
    a, b, merge_id = merged(client, store, "xena@example.com")
    new_phone = "+15550107799"
    response = client.put(
        f"/v1/contacts/{b}",
        json={"email": "xena@example.com", "phone": new_phone},
        headers=store.headers,
    )
    assert response.status_code == 200, response.text
    undone = client.post(f"/v1/contact-merges/{merge_id}/undo", headers=store.headers)
    assert undone.status_code == 409, undone.text
    assert track(client, store, {"phone": new_phone}) == b
    assert json_of(client.get(f"/v1/contacts/{a}", headers=store.headers))["id"] == b


def test_undo_records_identifiers_by_kind_and_value(
    client: TestClient, worker: Worker, store: StoreFixture
) -> None:
    a, _, merge_id = merged(client, store, "yara@example.com")
    (merge,) = json_of(client.get(f"/v1/contact-merges?contactId={a}", headers=store.headers))[
        "items"
    ]
    undone = client.post(f"/v1/contact-merges/{merge_id}/undo", headers=store.headers)
    assert undone.status_code == 200, undone.text
    assert track(client, store, {"phone": PHONE}) == a
    assert json_of(client.get(f"/v1/contacts/{a}", headers=store.headers))["phone"] == PHONE
    assert merge["movedIdentifiers"] == [{"kind": "phone", "value": PHONE}]
