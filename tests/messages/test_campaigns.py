"""Campaigns to a list and to a segment, throttled, with consent and suppression; opens,
clicks and unsubscribes through the links of the emails the SMTP server received; the
campaign's figures and the list's rates."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.messages import links
from cartwheel.messages.campaigns import CampaignTask
from cartwheel.models import Contact, ContactConsent, Message
from cartwheel.models.base import utcnow
from tests.conftest import StoreFixture, json_of
from tests.messages.conftest import PUBLIC_URL, SmtpServer
from tests.messages.helpers import make_contact, make_template


def _list_with(client: TestClient, store: StoreFixture, contact_ids: list[int]) -> int:
    created = json_of(
        client.post("/v1/subscriber-lists", json={"name": "News"}, headers=store.headers)
    )
    response = client.post(
        f"/v1/subscriber-lists/{created['id']}/contacts",
        json={"contactIds": contact_ids},
        headers=store.headers,
    )
    assert response.status_code == 200, response.text
    return int(created["id"])


def _hrefs(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]


def _path(url: str) -> str:
    assert url.startswith(PUBLIC_URL)
    return url[len(PUBLIC_URL) :]


def test_a_list_campaign_end_to_end(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    settings: Any,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    template_id = make_template(db, store.store_id)
    ann = make_contact(db, store.store_id, email="ann@example.com")
    bob = make_contact(db, store.store_id, email="bob@example.com")
    never = make_contact(db, store.store_id, email="never@example.com", subscribed=False)
    gone = make_contact(db, store.store_id, email="gone@example.com")
    client.post("/v1/suppressions", json={"address": "Gone@Example.com"}, headers=store.headers)
    list_id = _list_with(client, store, [ann, bob, never, gone])
    response = client.post(
        "/v1/campaigns",
        headers=store.headers,
        json={"name": "News", "templateId": template_id, "listId": list_id, "ratePerSecond": 1},
    )
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["status"] == "scheduled"

    now = [utcnow() + timedelta(seconds=1)]
    expand = CampaignTask(settings, clock=lambda: now[0])
    while expand(db):
        pass
    task = sender(store.store_id)
    task.clock = lambda: now[0]
    task(db)
    # Throttled at one per second: only the first recipient is due yet.
    assert len(smtp_server.received) == 1
    now[0] += timedelta(seconds=5)
    task(db)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "ann@example.com",
        "bob@example.com",
    ]

    stats = json_of(client.get(f"/v1/campaigns/{campaign['id']}", headers=store.headers))
    assert stats["status"] == "sent"
    assert stats["stats"] == {
        "recipients": 4,
        "sent": 2,
        "delivered": 2,
        "opened": 0,
        "clicked": 0,
        "unsubscribed": 0,
        "bounced": 0,
        "skipped": 2,
        "failed": 0,
    }

    by_rcpt = {r.rcpt_tos[0]: r.message for r in smtp_server.received}
    ann_html = by_rcpt["ann@example.com"].get_body(("html",)).get_content()
    hrefs = _hrefs(ann_html)
    [tracked] = [h for h in hrefs if "/v1/t/c/" in h]
    assert "shop.example.com" not in tracked  # the destination is inside the signed token
    [pixel] = re.findall(r'<img src="([^"]+)"', ann_html)

    # A scanner's GET of the unsubscribe link changes nothing; the one-click POST does.
    unsubscribe = str(by_rcpt["bob@example.com"]["List-Unsubscribe"]).split(",")[0].strip("<> ")
    page = client.get(_path(unsubscribe))
    assert page.status_code == 200 and '<form method="post">' in page.text

    opened = client.get(_path(pixel))
    assert opened.status_code == 200 and opened.headers["content-type"] == "image/gif"
    client.get(_path(pixel))
    clicked = client.get(_path(tracked), follow_redirects=False)
    assert clicked.status_code == 302
    assert clicked.headers["location"] == "https://shop.example.com/sale?a=1&b=2"

    with db.read() as session:
        bob_row = session.get(Contact, bob)
        assert bob_row is not None and bob_row.subscribed
    done = client.post(_path(unsubscribe), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "unsubscribed" in done.text
    with db.read() as session:
        bob_row = session.get(Contact, bob)
        assert bob_row is not None and not bob_row.subscribed
        granted = session.scalar(
            select(ContactConsent.granted).where(
                ContactConsent.contact_id == bob, ContactConsent.topic == "marketing"
            )
        )
        assert granted is False

    stats = json_of(client.get(f"/v1/campaigns/{campaign['id']}", headers=store.headers))
    assert (
        stats["stats"]["opened"],
        stats["stats"]["clicked"],
        stats["stats"]["unsubscribed"],
    ) == (1, 1, 1)
    listed = json_of(client.get(f"/v1/subscriber-lists/{list_id}", headers=store.headers))
    assert (listed["opens"], listed["clicks"]) == (0.5, 0.5)
    messages = json_of(
        client.get(f"/v1/messages?campaignId={campaign['id']}&status=sent", headers=store.headers)
    )
    ann_message = next(m for m in messages["items"] if m["to"] == "ann@example.com")
    assert (ann_message["opens"], ann_message["clicks"]) == (2, 1)

    # A second campaign to the list skips Bob now.
    second = json_of(
        client.post(
            "/v1/campaigns",
            headers=store.headers,
            json={"name": "Again", "templateId": template_id, "listId": list_id},
        )
    )
    while expand(db):
        pass
    now[0] += timedelta(seconds=60)
    task(db)
    second_stats = json_of(client.get(f"/v1/campaigns/{second['id']}", headers=store.headers))
    assert second_stats["stats"]["sent"] == 1 and second_stats["stats"]["skipped"] == 3


def test_altered_links_are_refused(client: TestClient, db: Database, store: StoreFixture) -> None:
    token = links.click_token(store.store_id, 1, "https://shop.example.com/")
    forged = links.click_token(store.store_id, 1, "https://evil.example.net/")
    payload, signature = token.split(".")
    other_payload = forged.split(".")[0]
    for bad in (f"{other_payload}.{signature}", payload, f"{payload}.x", "nonsense", "a.b"):
        response = client.get(f"/v1/t/c/{bad}", follow_redirects=False)
        assert response.status_code == 404 and "location" not in response.headers
    # An open token is no click token, and no unsubscribe token.
    open_token = links.open_token(store.store_id, 1)
    assert client.get(f"/v1/t/c/{open_token}", follow_redirects=False).status_code == 404
    assert client.post(f"/v1/unsubscribe/{open_token}").status_code == 404
    assert client.get(f"/v1/t/o/{open_token[:-3]}abc").status_code == 200  # still a GIF


def test_an_unsubscribe_token_names_one_contact(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    ann = make_contact(db, store.store_id)
    bob = make_contact(db, store.store_id)
    token = links.unsubscribe_token(store.store_id, ann, "email", "marketing", None)
    signature = token.split(".")[1]
    claims = [store.store_id, bob, "email", "marketing", None]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    forged = forged_payload.decode().rstrip("=") + "." + signature
    assert client.post(f"/v1/unsubscribe/{forged}").status_code == 404
    assert client.post(f"/v1/unsubscribe/{token}").status_code == 200
    with db.read() as session:
        subscribed = dict(
            session.execute(
                select(Contact.id, Contact.subscribed).where(Contact.id.in_([ann, bob]))
            ).all()
        )
    assert subscribed == {ann: False, bob: True}


def test_a_segment_campaign(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    settings: Any,
    smtp_server: SmtpServer,
    sender: Any,
) -> None:
    template_id = make_template(db, store.store_id)
    vip = make_contact(db, store.store_id, email="vip@example.com", city="Lisbon")
    make_contact(db, store.store_id, email="plain@example.com")
    response = client.post(
        "/v1/segments",
        headers=store.headers,
        json={
            "name": "VIP",
            "condition": {"profile": "city", "op": "eq", "value": "Lisbon"},
        },
    )
    assert response.status_code == 201, response.text
    segment_id = response.json()["id"]
    response = client.post(
        "/v1/campaigns",
        headers=store.headers,
        json={"name": "VIP", "templateId": template_id, "segmentId": segment_id},
    )
    assert response.status_code == 201, response.text
    expand = CampaignTask(settings)
    while expand(db):
        pass
    sender(store.store_id)(db)
    assert [r.rcpt_tos for r in smtp_server.received] == [["vip@example.com"]]
    with db.read() as session:
        assert session.scalars(
            select(Message.contact_id).where(Message.store_id == store.store_id)
        ).all() == [vip]


def test_campaign_validation_and_tenancy(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    template_id = make_template(db, store.store_id)
    theirs = make_template(db, other_store.store_id)
    list_id = _list_with(client, store, [make_contact(db, store.store_id)])
    for body in (
        {"name": "x", "templateId": template_id},
        {"name": "x", "templateId": template_id, "listId": list_id, "segmentId": 1},
        {"name": "x", "templateId": theirs, "listId": list_id},
        {"name": "x", "templateId": template_id, "listId": list_id + 1000},
        {"name": "x", "templateId": template_id, "listId": list_id, "ratePerSecond": 0},
        {"name": "x", "templateId": template_id, "listId": list_id, "sendAt": "tomorrow"},
    ):
        response = client.post("/v1/campaigns", json=body, headers=store.headers)
        assert response.status_code == 422, (body, response.text)
    created = json_of(
        client.post(
            "/v1/campaigns",
            headers=store.headers,
            json={
                "name": "x",
                "templateId": template_id,
                "listId": list_id,
                "sendAt": "2030-01-01T00:00:00Z",
            },
        )
    )
    assert (
        client.get(f"/v1/campaigns/{created['id']}", headers=other_store.headers).status_code == 404
    )
    assert json_of(client.get("/v1/campaigns", headers=other_store.headers))["totalCount"] == 0
    assert (
        client.post(
            "/v1/campaigns",
            headers=other_store.headers,
            json={"name": "x", "templateId": template_id, "listId": list_id},
        ).status_code
        == 422
    )


def test_the_store_subscribing_a_contact_again_wins_over_an_old_unsubscribe(
    client: TestClient, db: Database, store: StoreFixture, smtp_server: SmtpServer, sender: Any
) -> None:
    from cartwheel.messages import service

    template_id = make_template(db, store.store_id)
    ann = make_contact(db, store.store_id, email="again@example.com")
    token = links.unsubscribe_token(store.store_id, ann, "email", "marketing", None)
    assert client.post(f"/v1/unsubscribe/{token}").status_code == 200
    response = client.put(
        f"/v1/contacts/{ann}",
        json={"email": "again@example.com", "subscribed": True},
        headers=store.headers,
    )
    assert response.status_code == 200, response.text
    with db.transaction() as session:
        service.enqueue_message(session, store.store_id, template_id, ann, idempotency_key="a")
    sender(store.store_id)(db)
    assert [r.rcpt_tos for r in smtp_server.received] == [["again@example.com"]]
