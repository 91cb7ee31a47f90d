"""The flows and messages pages, through HTTP: the flow list, a flow's diagram with each
step's figures, its runs and a run's step log; publish, pause, resume and delete (asked
for, audited); the message log with the content as sent in a sandboxed frame; templates
previewed for a chosen contact; campaigns with their figures; the contact profile's flow
runs and messages; the overview's message delivery. The SMTP check is in
test_smtp_check.py."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import AuditEntry, Flow, Message
from cartwheel.models.base import utcnow
from cartwheel.runtime import Runtime
from tests.admin.conftest import SENT_HTML, SignedInClient, populate
from tests.conftest import StoreFixture


def _actions(db: Database, store_id: int) -> list[tuple[str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.target)
            .where(AuditEntry.store_id == store_id)
            .order_by(AuditEntry.id)
        ).all()
    return [(a, t) for a, t in rows]


def test_the_flow_list_and_a_flows_diagram_runs_and_step_log(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    base = f"/admin/stores/{store.store_id}/flows"
    listing = admin.get(base)
    assert listing.status_code == 200
    assert f'href="{base}/{data.flow_id}"' in listing.text and "Welcome flow" in listing.text
    page = admin.get(f"{base}/{data.flow_id}")
    assert page.status_code == 200
    svg = re.search(r'<svg class="diagram".*?</svg>', page.text, re.S)
    assert svg is not None
    drawn = re.findall(r'data-step="([^"]+)"', svg.group(0))
    assert drawn == ["wait", "vip", "tag", "end"]  # by distance from the start
    # An arrow for every way out: wait→vip, vip→tag (then), vip→end (else), tag→end.
    assert svg.group(0).count('class="edge"') == 4
    assert ">then<" in svg.group(0) and ">else<" in svg.group(0)
    assert "entered 0 · waiting 0" in svg.group(0)  # the test run is not counted
    # The run (a test run) is listed, and its step log shows every step it took.
    assert f'href="{base}/{data.flow_id}/runs/{data.run_id}"' in page.text
    run = admin.get(f"{base}/{data.flow_id}/runs/{data.run_id}")
    assert run.status_code == 200
    steps = re.findall(r'<th scope="row">([^<]+)</th>', run.text)
    assert steps == ["wait", "vip", "tag", "end"]
    assert f'href="/admin/stores/{store.store_id}/contacts/{data.contact_id}"' in run.text


def test_a_real_run_is_counted_on_its_step(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    admin: SignedInClient,
    runtime: Runtime,
) -> None:
    data = populate(client, db, store)
    url = f"/admin/stores/{store.store_id}/flows/{data.flow_id}"
    wait = re.compile(
        r'<g class="step wait start" data-step="wait">.*?entered (\d+) · waiting (\d+)', re.S
    )
    runtime.worker.drain()  # populate's own "Signed Up" (sent before the flow was live)
    before = wait.search(admin.get(url).text)
    assert before is not None
    entered, waiting = int(before.group(1)), int(before.group(2))
    answer = client.post(
        "/v1/events",
        json={"name": "Signed Up", "contact": {"email": "newcomer@example.com"}},
        headers=store.headers,
    )
    assert answer.status_code == 202
    runtime.worker.drain()
    page = admin.get(url)
    after = wait.search(page.text)
    assert after is not None
    assert (int(after.group(1)), int(after.group(2))) == (entered + 1, waiting + 1)
    assert f"active {waiting + 1} · done 0" in page.text
    active = admin.get(f"/admin/stores/{store.store_id}/flows/{data.flow_id}?state=active")
    assert active.text.count('<span class="tag">test</span>') == 0
    assert re.search(rf"/contacts/{answer.json()['contactId']}\"", active.text)


def test_publish_pause_resume_are_audited_and_delete_asks_first(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    base = f"/admin/stores/{store.store_id}/flows/{data.flow_id}"
    assert admin.post(f"{base}/pause").status_code == 303
    assert "Resume" in admin.get(base).text
    assert admin.post(f"{base}/resume").status_code == 303
    assert admin.post(f"{base}/publish").status_code == 303  # unchanged: stays version 1
    asked = admin.post(f"{base}/delete")
    assert asked.status_code == 200 and "Delete the flow" in asked.text
    with db.read() as session:
        assert session.get(Flow, data.flow_id).deleted_at is None  # type: ignore[union-attr]
    done = admin.post(f"{base}/delete", data={"confirm": "yes"})
    assert done.status_code == 303
    with db.read() as session:
        assert session.get(Flow, data.flow_id).deleted_at is not None  # type: ignore[union-attr]
    target = f"flow {data.flow_id}"
    assert [a for a, t in _actions(db, store.store_id) if t == target] == [
        "flow.pause",
        "flow.resume",
        "flow.publish",
        "flow.delete",
    ]
    assert admin.get(base).status_code == 404
    assert f'{base}"' not in admin.get(f"/admin/stores/{store.store_id}/flows").text


def test_pausing_a_draft_is_a_clear_conflict(
    client: TestClient, store: StoreFixture, admin: SignedInClient
) -> None:
    made = client.post(
        "/v1/flows",
        json={
            "name": "Draft",
            "trigger": {"event": "Signed Up"},
            "start": "end",
            "steps": {"end": {"type": "exit"}},
        },
        headers=store.headers,
    )
    assert made.status_code == 201
    base = f"/admin/stores/{store.store_id}/flows/{made.json()['id']}"
    refused = admin.post(f"{base}/pause")
    assert refused.status_code == 409 and "not published" in refused.text
    assert "Publish" in admin.get(base).text


def test_a_message_is_shown_in_a_sandboxed_frame_never_inline(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    base = f"/admin/stores/{store.store_id}/messages"
    log = admin.get(base)
    assert log.status_code == 200
    assert f'href="{base}/{data.message_id}"' in log.text and "Your cart is waiting" in log.text
    assert f'href="{base}/{data.message_id}"' in admin.get(f"{base}?status=sent").text
    assert f'href="{base}/{data.message_id}"' not in admin.get(f"{base}?status=failed").text
    page = admin.get(f"{base}/{data.message_id}")
    assert page.status_code == 200
    frame = re.search(r"<iframe [^>]*>", page.text)
    assert frame is not None
    assert 'sandbox=""' in frame.group(0)
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame.group(0))
    assert srcdoc is not None and html.unescape(srcdoc.group(1)) == SENT_HTML
    # The message's markup is nowhere in the page itself.
    assert "<script>window.parent" not in page.text and '<p id="hello">' not in page.text


def test_a_template_is_previewed_for_a_chosen_contact(
    client: TestClient,
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
    admin: SignedInClient,
) -> None:
    data = populate(client, db, store)
    theirs = populate(client, db, other_store)
    base = f"/admin/stores/{store.store_id}/templates"
    assert f'href="{base}/{data.template_id}"' in admin.get(base).text
    sample = admin.get(f"{base}/{data.template_id}")
    assert sample.status_code == 200 and "Rendered with the sample data" in sample.text
    assert "Welcome, Ann (ann@example.com)" in sample.text
    with db.read() as session:
        email = session.scalar(select(Message.to_address).where(Message.id == data.message_id))
    for chosen in (str(data.contact_id), email):
        page = admin.get(f"{base}/{data.template_id}", params={"contact": chosen})
        assert page.status_code == 200
        subject = f'<span id="preview-subject">Welcome, Ann ({email})</span>'
        assert subject in page.text, chosen
        frame = re.search(r'<iframe [^>]*srcdoc="([^"]*)"', page.text)
        assert frame is not None and "Hello Ann from" in html.unescape(frame.group(1))
    # Another store's contact names nobody here.
    foreign = admin.get(f"{base}/{data.template_id}", params={"contact": str(theirs.contact_id)})
    assert foreign.status_code == 200 and f"No contact {theirs.contact_id}" in foreign.text
    assert "preview-subject" not in foreign.text and "Welcome, Ann" not in foreign.text


def test_campaigns_show_sent_opened_and_clicked(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    now = utcnow()
    with db.transaction() as session:
        for n, (status, opened, clicked) in enumerate(
            [("sent", True, True), ("sent", True, False), ("sent", False, False), ("bounced", 0, 0)]
        ):
            session.add(
                Message(
                    store_id=store.store_id,
                    contact_id=data.contact_id,
                    template_id=data.template_id,
                    campaign_id=data.campaign_id,
                    channel="email",
                    topic="marketing",
                    idempotency_key=f"campaign-{data.campaign_id}-{n}",
                    status=status,
                    created_at=now,
                    sent_at=now,
                    opened_at=now if opened else None,
                    clicked_at=now if clicked else None,
                )
            )
    base = f"/admin/stores/{store.store_id}/campaigns"
    listing = admin.get(base)
    row = re.search(rf'<a href="{base}/{data.campaign_id}">.*?</tr>', listing.text, re.S)
    assert row is not None
    figures = re.findall(r'<td class="num">([\d,]+)', row.group(0))
    # recipients (not expanded yet), sent, opened, clicked, bounced, unsubscribed
    assert figures == ["0", "4", "2", "1", "1", "0"]
    page = admin.get(f"{base}/{data.campaign_id}")
    assert page.status_code == 200
    shown = dict(
        (label, int(value.replace(",", "")))
        for value, label in re.findall(
            r"<div><strong>([\d,]+)</strong><span class=\"muted\">(\w+)</span></div>", page.text
        )
    )
    assert shown["sent"] == 4 and shown["opened"] == 2 and shown["clicked"] == 1
    assert page.text.count(f"/admin/stores/{store.store_id}/messages/") == 4


def test_the_profile_shows_flow_runs_and_messages(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    page = admin.get(f"/admin/stores/{store.store_id}/contacts/{data.contact_id}")
    assert page.status_code == 200
    runs = re.search(r'<ul class="plain" id="flow-runs">.*?</ul>', page.text, re.S)
    assert runs is not None
    assert f"/flows/{data.flow_id}/runs/{data.run_id}" in runs.group(0)
    assert "Welcome flow" in runs.group(0) and '<span class="tag">test</span>' in runs.group(0)
    sent = re.search(r'<ul class="plain" id="contact-messages">.*?</ul>', page.text, re.S)
    assert sent is not None and f"/messages/{data.message_id}" in sent.group(0)
    # Orders, carts, segments and merges are there too (test_pages.py checks their rows).
    for heading in ("Orders", "Carts", "Segments", "Merges", "Flow runs", "Messages"):
        assert f"<h2>{heading}" in page.text


def test_the_overview_shows_message_delivery_beside_webhooks(
    client: TestClient, db: Database, store: StoreFixture, admin: SignedInClient
) -> None:
    data = populate(client, db, store)
    now = utcnow()
    with db.transaction() as session:
        for n, status in enumerate(["sent", "sent", "failed", "skipped", "queued"]):
            session.add(
                Message(
                    store_id=store.store_id,
                    contact_id=data.contact_id,
                    channel="email",
                    topic="transactional",
                    idempotency_key=f"overview-{n}",
                    status=status,
                    created_at=now,
                )
            )
    page = admin.get(f"/admin/stores/{store.store_id}")
    table = re.search(r'<table id="message-delivery">.*?</table>', page.text, re.S)
    assert table is not None
    hour = re.search(r'<th scope="row">hour</th>(.*?)</tr>', table.group(0), re.S)
    assert hour is not None
    cells = re.findall(r'<td class="num">([^<]+)</td>', hour.group(1))
    # populate's message and these: sent 3, failed 1, bounced 0, skipped 1, waiting 1; 75 %.
    assert cells == ["3", "1", "0", "1", "1", "75.0 %"]
    assert "Webhook deliveries" in page.text
