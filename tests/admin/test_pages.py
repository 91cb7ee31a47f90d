"""What each page shows and does, through HTTP (the browser tests drive the same pages in
Chromium): search, the profile and its timeline, the segment builder, confirmations and
the audit log, settings, the overview's figures."""

from __future__ import annotations

import copy
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import ApiKey, AuditEntry, ContactMerge, Segment, Store, WebhookDelivery
from cartwheel.wire.voucherify.schemas import DOCUMENT_EXAMPLE
from tests.admin.conftest import SignedInClient, make_operator, populate, signed_in
from tests.conftest import StoreFixture


def _audit(db: Database, store_id: int) -> list[tuple[str, str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.target, AuditEntry.operator_email)
            .where(AuditEntry.store_id == store_id)
            .order_by(AuditEntry.id)
        ).all()
    return [(a, t, e) for a, t, e in rows]


def test_search_finds_by_email_phone_external_id_and_name(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    base = f"/admin/stores/{store.store_id}/contacts"
    with db.read() as session:
        from cartwheel.contacts import service as contacts

        contact = contacts.read_contact(session, store.store_id, data.contact_id)
    link = f'href="{base}/{data.contact_id}"'
    for q in (
        contact.email,
        contact.email.upper(),
        "(415) 555-0123",
        contact.externalIds[0],
        "ann",
    ):
        page = admin.get(base, params={"q": q})
        assert page.status_code == 200
        assert link in page.text, q
    nothing = admin.get(base, params={"q": "zz-no-such-person"})
    assert link not in nothing.text and "No contact matches." in nothing.text


def test_the_profile_shows_identifiers_and_a_newest_first_paged_timeline(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    events = [
        {
            "name": f"Step {i:02d}",
            "contact": {"email": "pager@example.com"},
            "occurredAt": f"2026-01-01T00:{i:02d}:00Z",
        }
        for i in range(30)
    ]
    answer = client.post("/v1/events/batch", json={"events": events}, headers=store.headers)
    assert answer.status_code in (200, 202, 207), answer.text
    contact_id = answer.json()["items"][0]["contactId"] if "items" in answer.json() else None
    if contact_id is None:
        found = admin.get(
            f"/admin/stores/{store.store_id}/contacts", params={"q": "pager@example.com"}
        )
        contact_id = int(re.search(r"/contacts/(\d+)\"", found.text).group(1))  # type: ignore[union-attr]
    base = f"/admin/stores/{store.store_id}/contacts/{contact_id}"
    page = admin.get(base)
    assert page.status_code == 200
    names = re.findall(r"<strong>(Step \d\d)</strong>", page.text)
    assert names == [f"Step {i:02d}" for i in range(29, 4, -1)]  # 25, newest first
    cursor = re.search(r'hx-get="[^"]*cursor=([^"&]+)"', page.text)
    assert cursor is not None
    more = admin.get(
        f"{base}/timeline",
        params={"cursor": cursor.group(1).replace("%3D", "=")},
        headers={"HX-Request": "true"},
    )
    assert re.findall(r"<strong>(Step \d\d)</strong>", more.text) == [
        f"Step {i:02d}" for i in range(4, -1, -1)
    ]
    assert "Older events" not in more.text
    filtered = admin.get(base, params={"name": "Step 07"})
    assert re.findall(r"<strong>(Step \d\d)</strong>", filtered.text) == ["Step 07"]
    profile = admin.get(f"/admin/stores/{store.store_id}/contacts/{data.contact_id}")
    assert "+14155550123" in profile.text and "external" in profile.text
    # A merged-away id shows the contact it became.
    merged = admin.get(f"/admin/stores/{store.store_id}/contacts/{data.merged_id}")
    assert merged.status_code == 303
    assert merged.headers["location"].endswith(f"/contacts/{data.contact_id}")


def test_undoing_a_merge_asks_first_and_is_audited(
    client: TestClient, db: Database, store: StoreFixture, operator: object
) -> None:
    data = populate(client, db, store)
    admin = signed_in(client, operator)  # type: ignore[arg-type]
    url = f"/admin/stores/{store.store_id}/merges/{data.merge_id}/undo"
    asked = admin.post(url)
    assert asked.status_code == 200 and "Undo merge" in asked.text and 'value="yes"' in asked.text
    with db.read() as session:
        assert session.get(ContactMerge, data.merge_id).undone_at is None  # type: ignore[union-attr]
    done = admin.post(url, data={"confirm": "yes"})
    assert done.status_code == 303
    with db.read() as session:
        assert session.get(ContactMerge, data.merge_id).undone_at is not None  # type: ignore[union-attr]
    assert _audit(db, store.store_id)[-1][:2] == ("merge.undo", f"merge {data.merge_id}")
    again = admin.post(url, data={"confirm": "yes"})
    assert again.status_code == 409


def test_the_builder_previews_creates_edits_and_deletes_a_segment(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    populate(client, db, store)
    base = f"/admin/stores/{store.store_id}/segments"
    row = {
        "kind": "did",
        "event": "Viewed Product",
        "min_count": "",
        "within_days": "30",
        "field": "",
        "op": "eq",
        "value": "",
        "consent": "subscribed",
    }
    preview = admin.post(f"{base}/preview", data={"match": "all", **row})
    assert re.search(r'id="preview-count">1<', preview.text), preview.text
    none = admin.post(f"{base}/preview", data={"match": "all", **row, "event": "Never Done"})
    assert 'id="preview-count">0<' in none.text
    empty = admin.post(f"{base}/preview", data={"match": "all", **row, "event": ""})
    assert "Describe who to count" in empty.text and "error" not in empty.text
    bad = admin.post(f"{base}/preview", data={"condition_json": '{"all": []}'})
    assert "error" in bad.text and "empty" in bad.text
    created = admin.post(base, data={"name": "Viewers, 30 days", "match": "all", **row})
    assert created.status_code == 303, created.text
    segment_id = int(created.headers["location"].rsplit("/", 1)[1])
    page = admin.get(f"{base}/{segment_id}")
    assert 'id="segment-size">1<' in page.text
    explain = admin.get(f"{base}/{segment_id}/explain", params={"contact": "nobody@x.example"})
    assert "No contact" in explain.text
    edited = admin.post(
        f"{base}/{segment_id}",
        data={"name": "Never", "condition_json": '{"event": "Never Done"}'},
    )
    assert edited.status_code == 303
    assert 'id="segment-size">0<' in admin.get(f"{base}/{segment_id}").text
    asked = admin.post(f"{base}/{segment_id}/delete")
    assert asked.status_code == 200 and "Delete the segment" in asked.text
    assert admin.post(f"{base}/{segment_id}/delete", data={"confirm": "yes"}).status_code == 303
    with db.read() as session:
        assert session.get(Segment, segment_id).deleted_at is not None  # type: ignore[union-attr]
    actions = [a for a, _, _ in _audit(db, store.store_id)]
    assert actions[-3:] == ["segment.create", "segment.update", "segment.delete"]


def test_replaying_a_delivery_asks_first_and_is_audited(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    page = admin.get(f"/admin/stores/{store.store_id}/webhooks/{data.webhook_id}")
    assert "failed" in page.text and "12 ms" in page.text
    url = (
        f"/admin/stores/{store.store_id}/webhooks/{data.webhook_id}"
        f"/deliveries/{data.delivery_id}/replay"
    )
    assert "Replay delivery" in admin.post(url).text
    assert admin.post(url, data={"confirm": "yes"}).status_code == 303
    with db.read() as session:
        replays = (
            session.execute(
                select(WebhookDelivery).where(WebhookDelivery.replay_of_id == data.delivery_id)
            )
            .scalars()
            .all()
        )
    assert [r.status for r in replays] == ["pending"]
    assert _audit(db, store.store_id)[-1][0] == "delivery.replay"


def test_settings_keys_are_shown_once_and_revoked_after_asking(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    base = f"/admin/stores/{store.store_id}/settings"
    made = admin.post(f"{base}/keys", data={"name": "warehouse"})
    assert made.status_code == 200
    key = re.search(r'id="new-key" class="secret">([^<]+)<', made.text)
    assert key is not None
    assert (
        client.get("/v1/contacts", headers={"Authorization": f"Bearer {key.group(1)}"}).status_code
        == 200
    )
    assert key.group(1) not in admin.get(base).text  # never again
    with db.read() as session:
        row = session.execute(
            select(ApiKey).where(ApiKey.store_id == store.store_id, ApiKey.name == "warehouse")
        ).scalar_one()
    url = f"{base}/keys/{row.id}/revoke"
    assert "Revoke the key" in admin.post(url).text
    assert admin.post(url, data={"confirm": "yes"}).status_code == 303
    with db.read() as session:
        assert session.get(ApiKey, row.id).revoked_at is not None  # type: ignore[union-attr]
    origins = admin.post(
        f"{base}/origins/{_credential(db, store)}",
        data={"origins": "https://a.example\nnot an origin/x"},
    )
    assert origins.status_code == 422 and "not an origin" in origins.text
    saved = admin.post(
        f"{base}/origins/{_credential(db, store)}", data={"origins": "https://a.example"}
    )
    assert saved.status_code == 303
    assert admin.post(f"{base}/rate-limit", data={"rate_limit": "-3"}).status_code == 422
    assert admin.post(f"{base}/rate-limit", data={"rate_limit": "12.5"}).status_code == 303
    with db.read() as session:
        assert session.get(Store, store.store_id).rate_limit_per_second == 12.5  # type: ignore[union-attr]
    made = admin.post(f"{base}/credentials", data={"origins": "https://b.example"})
    app_id = re.search(r'id="new-app-id" class="secret">([^<]+)<', made.text)
    token = re.search(r'id="new-client-token" class="secret">([^<]+)<', made.text)
    assert app_id is not None and token is not None
    client_headers = {
        "X-Client-Application-Id": app_id.group(1),
        "X-Client-Token": token.group(1),
        "Origin": "https://b.example",
    }
    sent = client.post(
        "/client/v1/events", json=copy.deepcopy(DOCUMENT_EXAMPLE), headers=client_headers
    )
    assert token.group(1) not in admin.get(base).text
    with db.read() as session:
        from cartwheel.stores import service as stores

        credential = next(
            c
            for c in stores.list_client_credentials(session, store.store_id)
            if c.application_id == app_id.group(1)
        )
    url = f"{base}/credentials/{credential.id}/revoke"
    assert "Revoke the credential" in admin.post(url).text
    assert admin.post(url, data={"confirm": "yes"}).status_code == 303
    with db.read() as session:
        assert stores.list_client_credentials(session, store.store_id)[-1].revoked_at is not None
    actions = [a for a, _, _ in _audit(db, store.store_id)]
    assert actions[-6:] == [
        "key.create",
        "key.revoke",
        "origins.set",
        "rate_limit.set",
        "credential.create",
        "credential.revoke",
    ]
    assert sent.status_code == 200, sent.text

    log = admin.get(f"/admin/stores/{store.store_id}/audit")
    assert "key.revoke" in log.text


def _credential(db: Database, store: StoreFixture) -> int:
    from cartwheel.stores import service as stores

    with db.read() as session:
        return stores.list_client_credentials(session, store.store_id)[0].id


def test_the_overview_counts_events_per_wire_format(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    for i in range(3):
        client.post(
            "/v1/events",
            json={"name": "A", "contact": {"email": f"o{i}@x.example"}},
            headers=store.headers,
        )
    duplicate = {"name": "A", "contact": {"email": "o0@x.example"}, "dedupKey": "once"}
    for _ in range(2):
        client.post("/v1/events", json=duplicate, headers=store.headers)
    page = admin.get(f"/admin/stores/{store.store_id}")
    assert page.status_code == 200
    assert "4 events stored in the last hour" in page.text
    assert re.search(r"<td>native</td><td class=\"num\">4</td>", page.text)
    week = admin.get(f"/admin/stores/{store.store_id}", params={"span": "week"})
    assert "4 events stored in the last week" in week.text
    assert "Events waiting" in page.text and "Dead letters" in page.text


def test_pages_carry_the_security_headers(admin: SignedInClient, store: StoreFixture) -> None:
    page = admin.get(f"/admin/stores/{store.store_id}")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["server-timing"].startswith("app;dur=")


def test_two_operators_share_a_store_and_the_log_names_each(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    first = signed_in(client, make_operator(db, store.store_id))
    second = signed_in(client, make_operator(db, store.store_id))
    base = f"/admin/stores/{store.store_id}/settings/rate-limit"
    first.post(base, data={"rate_limit": "7"})
    second.post(base, data={"rate_limit": ""})
    emails = [e for a, _, e in _audit(db, store.store_id) if a == "rate_limit.set"]
    assert len(set(emails[-2:])) == 2


def test_pausing_and_resuming_a_webhook_is_audited(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    base = f"/admin/stores/{store.store_id}/webhooks/{data.webhook_id}"
    assert "Resume" in admin.get(base).text  # populate's webhook is paused
    assert admin.post(f"{base}/resume").status_code == 303
    assert "Pause" in admin.get(base).text
    assert admin.post(f"{base}/pause").status_code == 303
    assert "paused" in admin.get(f"/admin/stores/{store.store_id}/webhooks").text
    actions = [a for a, _, _ in _audit(db, store.store_id)]
    assert actions[-2:] == ["webhook.resume", "webhook.pause"]
