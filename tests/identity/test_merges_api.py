"""Merges are visible and undoable; conflicts are listed; all of it per store."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture
from tests.ingest.test_identity import event, ingest_one


def merge_phone_into_email(runtime: Runtime, store: StoreFixture) -> tuple[int, int]:
    phone_only = ingest_one(runtime, event(store.store_id, "viewed", phone="+15551239001"))
    ingest_one(runtime, event(store.store_id, "signed_up", email="gil@example.com"))
    both = ingest_one(
        runtime, event(store.store_id, "ordered", email="gil@example.com", phone="+15551239001")
    )
    assert phone_only.contact_id is not None and both.contact_id is not None
    return phone_only.contact_id, both.contact_id


def test_merge_is_listed_with_what_moved(
    client: TestClient, runtime: Runtime, store: StoreFixture
) -> None:
    source, target = merge_phone_into_email(runtime, store)
    body = client.get(f"/v1/contact-merges?contactId={target}", headers=store.headers).json()
    assert body["totalCount"] == 1
    merge = body["items"][0]
    assert (merge["sourceContactId"], merge["targetContactId"]) == (source, target)
    assert merge["reason"] == "phone +15551239001"
    assert merge["movedEventCount"] == 1
    assert merge["undoneOn"] is None


def test_undo_splits_the_contacts_back_apart(
    client: TestClient, runtime: Runtime, store: StoreFixture
) -> None:
    source, target = merge_phone_into_email(runtime, store)
    merge_id = client.get("/v1/contact-merges", headers=store.headers).json()["items"][0]["id"]

    undone = client.post(f"/v1/contact-merges/{merge_id}/undo", headers=store.headers)
    assert undone.status_code == 200, undone.text
    assert undone.json()["undoneOn"] is not None

    # The phone resolves to the original contact again, with its original event back.
    again = ingest_one(runtime, event(store.store_id, "viewed", phone="+15551239001"))
    assert again.contact_id == source
    source_events = client.get(f"/v1/contacts/{source}/events", headers=store.headers).json()
    assert sorted(e["name"] for e in source_events["items"]) == ["viewed", "viewed"]
    target_events = client.get(f"/v1/contacts/{target}/events", headers=store.headers).json()
    assert sorted(e["name"] for e in target_events["items"]) == ["ordered", "signed_up"]

    twice = client.post(f"/v1/contact-merges/{merge_id}/undo", headers=store.headers)
    assert twice.status_code == 409
    assert twice.json() == {"success": False, "message": "This merge was already undone."}


def test_conflicts_are_listed(client: TestClient, runtime: Runtime, store: StoreFixture) -> None:
    first = ingest_one(
        runtime, event(store.store_id, email="hal@example.com", phone="+15551239002")
    )
    second = ingest_one(
        runtime, event(store.store_id, email="ida@example.com", phone="+15551239002")
    )
    body = client.get("/v1/identity-conflicts", headers=store.headers).json()
    assert body["totalCount"] == 1
    conflict = body["items"][0]
    assert conflict["contactId"] == second.contact_id
    assert conflict["ownerContactId"] == first.contact_id
    assert (conflict["kind"], conflict["value"]) == ("phone", "+15551239002")


def test_another_store_sees_and_undoes_nothing(
    client: TestClient, runtime: Runtime, store: StoreFixture, other_store: StoreFixture
) -> None:
    merge_phone_into_email(runtime, store)
    merge_id = client.get("/v1/contact-merges", headers=store.headers).json()["items"][0]["id"]
    assert client.get("/v1/contact-merges", headers=other_store.headers).json()["totalCount"] == 0
    response = client.post(f"/v1/contact-merges/{merge_id}/undo", headers=other_store.headers)
    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "Merge not found."}
    missing = client.post("/v1/contact-merges/999999/undo", headers=other_store.headers)
    assert missing.json() == response.json()


def test_out_of_range_ids_name_nothing(client: TestClient, store: StoreFixture) -> None:
    too_big = 2**31
    response = client.post(f"/v1/contact-merges/{too_big}/undo", headers=store.headers)
    assert response.status_code == 404
    listed = client.get(f"/v1/contact-merges?contactId={too_big}", headers=store.headers)
    assert listed.json()["totalCount"] == 0
    conflicts = client.get(f"/v1/identity-conflicts?contactId={too_big}", headers=store.headers)
    assert conflicts.json()["totalCount"] == 0
