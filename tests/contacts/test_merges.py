"""When the resolver merges two contacts, what pointed at the merged one follows it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, IngestResult
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture, json_of


def ingest(runtime: Runtime, store: StoreFixture, **ids: str) -> int:
    hints = IdentityHints()
    for kind in ("email", "phone"):
        hints.add(kind, ids.get(kind))  # type: ignore[arg-type]
    (result,) = runtime.writer.submit_sync(
        [CanonicalEvent(store_id=store.store_id, name="seen", identity=hints)]
    )
    assert isinstance(result, IngestResult) and result.contact_id is not None
    return result.contact_id


def test_lists_member_submissions_and_bookings_follow_a_merge(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    headers = store.headers
    news = json_of(client.post("/v1/subscriber-lists", json={"name": "N"}, headers=headers))
    phone_only = ingest(runtime, store, phone="+15550109999")
    client.post(
        f"/v1/subscriber-lists/{news['id']}/contacts",
        json={"contactIds": [phone_only]},
        headers=headers,
    )
    member = json_of(
        client.post(
            "/v1/members", json={"name": "Mel", "email": "mel@example.com"}, headers=headers
        )
    )
    survivor = member["contactId"]
    merged_into = ingest(runtime, store, email="mel@example.com", phone="+15550109999")
    assert merged_into == survivor
    worker.drain()
    shown = json_of(client.get(f"/v1/contacts/{survivor}", headers=headers))
    assert (shown["subscriberLists"], shown["memberId"]) == ([news["id"]], member["id"])
    on_list = json_of(client.get(f"/v1/subscriber-lists/{news['id']}/contacts", headers=headers))
    assert [c["id"] for c in on_list["items"]] == [survivor]
    # The merged id still answers, with the survivor.
    assert json_of(client.get(f"/v1/contacts/{phone_only}", headers=headers))["id"] == survivor
