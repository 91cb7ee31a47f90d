"""The back office in a real browser: Debian's Chromium (``/usr/bin/chromium``, installed
by ``.ci/run``) driven by Playwright for Python, against the app under uvicorn on
127.0.0.1. An operator signs in, searches a contact, opens the timeline and pages it,
builds a segment and watches its count change, replays a delivery, finds another store's
pages are 404s and a form without its CSRF token refused, follows a flow (its diagram, a
run's step log, pause and resume, deleting it after confirming), reads a sent message in
its sandboxed frame (its script does not run), previews a template for a contact, reads
a campaign's figures, runs the SMTP check, and signs out; then the same on a phone-sized
screen.

With ``CARTWHEEL_ADMIN_SCREENSHOTS=1`` the SQLite run also writes the screenshots of
docs/admin.md into docs/admin/ (1280 px wide and phone width), made smaller by ``pngquant``
where it is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from cartwheel.db import Database
from cartwheel.ingest import rates
from cartwheel.models import (
    Campaign,
    EventMinute,
    Message,
    SegmentDay,
    WebhookAttempt,
    WebhookDelivery,
)
from cartwheel.models.base import utcnow
from cartwheel.worker.runner import Worker
from tests.admin.conftest import LiveServer, make_operator, populate
from tests.conftest import StoreFixture, engine_name, make_store

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
# A loaded CI machine (two cores, the whole suite in parallel) answers slower than a desk.
expect.set_options(timeout=20_000)

CHROMIUM = os.environ.get("CARTWHEEL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "admin"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for one test: Playwright's sync API keeps an event loop running in this
    thread while it is open, which other tests' ``asyncio.run()`` must not meet."""
    if shutil.which(CHROMIUM) is None and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Shots:
    """Screenshots for docs/admin.md, only when asked for and only on one engine."""

    def __init__(self, db: Database) -> None:
        self.on = (
            bool(os.environ.get("CARTWHEEL_ADMIN_SCREENSHOTS")) and engine_name(db) == "sqlite"
        )
        if self.on:
            DOCS.mkdir(parents=True, exist_ok=True)

    def take(self, page: Any, name: str, full_page: bool = True) -> None:
        if not self.on:
            return
        path = DOCS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if shutil.which("pngquant"):  # a palette of 256 colours: a third of the bytes
            subprocess.run(
                [
                    "pngquant",
                    "--force",
                    "--skip-if-larger",
                    "--quality",
                    "60-90",
                    "--output",
                    str(path),
                    str(path),
                ],
                check=False,
            )


def showcase(
    client: TestClient, db: Database, worker: Worker
) -> tuple[StoreFixture, dict[str, Any]]:
    """A store that looks like one: named people, a week of their events, orders, a
    segment, a webhook with deliveries (the pages' data for the screenshots)."""
    store = make_store(db, "Northwind Outfitters")
    people = [
        ("Ann", "Lee", "Gold"),
        ("Bo", "Chen", "Silver"),
        ("Carla", "Diaz", "Gold"),
        ("Dev", "Patel", "Bronze"),
        ("Eva", "Novak", "Silver"),
        ("Femi", "Ade", "Gold"),
        ("Gus", "Berg", "Silver"),
        ("Hana", "Sato", "Gold"),
    ]
    now = utcnow()
    events: list[dict[str, Any]] = []
    for n, (first, last, tier) in enumerate(people):
        email = f"{first.lower()}.{last.lower()}@example.com"
        contact = {
            "email": email,
            "firstName": first,
            "lastName": last,
            "customFields": {"Tier": tier},
        }
        for day in range(6):
            occurred = (now - timedelta(days=day, hours=n)).isoformat()
            events.append(
                {
                    "name": "Viewed Product",
                    "contact": contact,
                    "occurredAt": occurred,
                    "properties": {"sku": f"TSH-{n + day}", "price": 19 + n},
                }
            )
        if n % 2 == 0:
            total = 40 + 7 * n
            events.append(
                {
                    "name": "Order Completed",
                    "category": "order",
                    "action": "completed",
                    "contact": contact,
                    "occurredAt": (now - timedelta(hours=n + 1)).isoformat(),
                    "value": total,
                    "currency": "USD",
                    "entity": {
                        "id": f"50{n:02d}",
                        "status": "completed",
                        "currency": "USD",
                        "total": total,
                        "items": [
                            {
                                "product_id": "p-77",
                                "name": "Trail shirt",
                                "price": total,
                                "quantity": 1,
                            }
                        ],
                    },
                }
            )
    for chunk in range(0, len(events), 50):
        answer = client.post(
            "/v1/events/batch", json={"events": events[chunk : chunk + 50]}, headers=store.headers
        )
        assert answer.status_code < 300 and answer.json()["rejected"] == 0, answer.text
    extra = populate(client, db, store)
    # Carla signs up: populate's flow (live by the time the worker runs) starts a run.
    signed = client.post(
        "/v1/events",
        json={"name": "Signed Up", "contact": {"email": "carla.diaz@example.com"}},
        headers=store.headers,
    )
    assert signed.status_code == 202, signed.text
    carla = signed.json()["contactId"]
    worker.drain()  # orders recorded, segments kept, flow runs started: the worker's work
    made = client.post(
        "/v1/segments",
        json={
            "name": "Repeat viewers, Gold and Silver",
            "condition": {
                "all": [
                    {"event": "Viewed Product", "count": {"gte": 3}, "within": {"days": 30}},
                    {"profile": "customFields.Tier", "op": "in", "value": ["Gold", "Silver"]},
                ]
            },
        },
        headers=store.headers,
    )
    assert made.status_code == 201, made.text
    segment_id = made.json()["id"]
    with db.transaction() as session:
        # An hour of ingest in three formats before now, for the overview's chart (the
        # ingest writer keeps these per minute; the events above add to the last one).
        minute = rates.minute_of(now)
        session.execute(
            insert(EventMinute),
            [
                {
                    "store_id": store.store_id,
                    "minute": minute - back,
                    "wire": wire,
                    "shard": 7,
                    "count": base + (back * 7 + n * 13) % 9,
                }
                for back in range(1, 60)
                for n, (wire, base) in enumerate(
                    (("native", 30), ("omnisend", 12), ("voucherify", 4))
                )
            ],
        )
        # Two weeks of history for the chart (the worker writes these day by day).
        for back in range(14, 0, -1):
            session.merge(
                SegmentDay(
                    segment_id=segment_id,
                    day=(now - timedelta(days=back)).date().isoformat(),
                    entered=1 + back % 3,
                    exited=back % 2,
                    size=max(1, 6 - back // 3),
                )
            )
        delivery = session.get(WebhookDelivery, extra.delivery_id)
        assert delivery is not None
        for attempt in range(3):
            session.add(
                WebhookAttempt(
                    store_id=store.store_id,
                    delivery_id=delivery.id,
                    attempted_at=now - timedelta(minutes=30 - 10 * attempt),
                    status_code=500,
                    latency_ms=12 + attempt,
                    error="HTTP 500",
                    succeeded=False,
                    response_body="down",
                )
            )
        # A campaign's messages, some opened and clicked (the send task's work).
        campaign = session.get(Campaign, extra.campaign_id)
        assert campaign is not None
        campaign.status, campaign.recipients = "sent", len(people)
        campaign.send_at = campaign.started_at = now - timedelta(minutes=50)
        campaign.finished_at = now - timedelta(minutes=42)
        for n, (first, last, _) in enumerate(people):
            session.add(
                Message(
                    store_id=store.store_id,
                    contact_id=carla if first == "Carla" else extra.contact_id,
                    template_id=extra.template_id,
                    campaign_id=extra.campaign_id,
                    channel="email",
                    topic="marketing",
                    idempotency_key=f"showcase-{n}",
                    status="bounced" if n == 7 else "sent",
                    to_address=f"{first.lower()}.{last.lower()}@example.com",
                    subject="Spring sale: 20 % off trail wear",
                    created_at=now - timedelta(minutes=50 - n),
                    sent_at=now - timedelta(minutes=50 - n),
                    opened_at=now if n % 2 == 0 else None,
                    opens=1 if n % 2 == 0 else 0,
                    clicked_at=now if n % 3 == 0 else None,
                    clicks=1 if n % 3 == 0 else 0,
                )
            )
        for n in range(4):
            session.add(
                WebhookDelivery(
                    store_id=store.store_id,
                    subscription_id=delivery.subscription_id,
                    message_id=f"msg_ok_{n}_{extra.delivery_id}",
                    event_type="contact_updated",
                    body=json.dumps({"contactId": extra.contact_id}),
                    status="succeeded",
                    attempts=1,
                    last_status_code=200,
                    last_latency_ms=40 + n,
                    created_at=now,
                    completed_at=now,
                )
            )
    return store, {"data": extra, "segment_id": segment_id}


def _sign_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/stores/*")


def test_an_operator_works_through_the_back_office(
    browser: Any,
    live_server: LiveServer,
    client: TestClient,
    db: Database,
    other_store: StoreFixture,
    worker: Worker,
) -> None:
    shots = Shots(db)
    store, made = showcase(client, db, worker)
    data = made["data"]
    theirs = populate(client, db, other_store)
    who = make_operator(db, store.store_id)
    url = live_server.url
    base = f"{url}/admin/stores/{store.store_id}"
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # Sign in: the overview, with its chart drawn.
    _sign_in(page, url, who.email, who.password)
    assert page.url == base
    page.wait_for_selector("#chart canvas")
    shots.take(page, "overview")

    # Search a contact by name and open the profile.
    page.get_by_role("link", name="Contacts").click()
    page.get_by_label("Search by email, phone, external id or name").fill("carla")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="carla.diaz@example.com").click()
    expect(page.get_by_role("heading", name="Carla Diaz")).to_be_visible()
    assert page.locator("#timeline li.event").count() == 8  # with "Signed Up"
    expect(page.locator("#flow-runs")).to_contain_text("Welcome flow")
    expect(page.locator("#contact-messages")).to_contain_text("Spring sale")
    shots.take(page, "contact")

    # The timeline of a contact with more events than a page: "Older events" appends more.
    for i in range(30):
        client.post(
            "/v1/events",
            json={"name": f"Step {i:02d}", "contact": {"email": "carla.diaz@example.com"}},
            headers=store.headers,
        )
    page.reload()
    rows = page.locator("#timeline li.event")
    assert rows.count() == 25
    assert rows.first.locator("strong").inner_text() == "Step 29"
    page.get_by_role("link", name="Older events").click()
    expect(rows).to_have_count(38)
    assert page.get_by_role("link", name="Older events").count() == 0

    # Build a segment: the preview count follows the edits.
    page.goto(f"{base}/segments/new")
    count = page.locator("#preview-count")
    page.get_by_label("Event name").fill("Viewed Product")
    expect(count).to_have_text("9")
    page.get_by_label("At least (times)").fill("6")
    expect(count).to_have_text("8")
    page.get_by_label("Event name").fill("Never Done")
    expect(count).to_have_text("0")
    page.get_by_label("Event name").fill("Order Completed")
    page.get_by_label("At least (times)").fill("")
    page.get_by_role("button", name="Add a condition").click()
    page.wait_for_selector("#rows fieldset.cond >> nth=1")
    second = page.locator("#rows fieldset.cond").nth(1)
    second.get_by_label("Kind").select_option("profile")
    second.get_by_label("Field", exact=True).fill("customFields.Tier")
    second.get_by_label("Value", exact=True).fill("Gold")
    expect(count).to_have_text("2")
    assert count.inner_text() == "2"
    page.get_by_label("Name", exact=True).fill("Gold buyers")
    shots.take(page, "segment-builder")
    page.get_by_role("button", name="Create the segment").click()
    page.wait_for_url(f"{base}/segments/*")
    assert page.locator("#segment-size").inner_text() == "2"
    page.goto(f"{base}/segments/{made['segment_id']}")
    page.wait_for_selector("#chart canvas")
    shots.take(page, "segment")

    # Replay a delivery, confirming first; the log shows the replay.
    page.goto(f"{base}/webhooks/{data.webhook_id}")
    shots.take(page, "webhook")
    page.locator("#deliveries").get_by_role("button", name="Replay…").last.click()
    # The click navigates to the confirmation page: wait for it (is_visible does not wait).
    expect(page.get_by_role("heading", name=f"Replay delivery {data.delivery_id}?")).to_be_visible()
    page.get_by_role("button", name="Replay it").click()
    page.wait_for_url(f"{base}/webhooks/{data.webhook_id}")
    assert page.get_by_text(f"replays {data.delivery_id}").is_visible()
    page.goto(f"{base}/audit")
    assert page.get_by_text("delivery.replay").is_visible()
    page.goto(f"{base}/settings")
    shots.take(page, "settings")

    # Flows: the list, the diagram with its figures, a run's step log, pause and resume.
    page.get_by_role("link", name="Flows").click()
    page.locator("#flows").get_by_role("link", name=re.compile("Welcome flow")).click()
    page.wait_for_url(f"{base}/flows/{data.flow_id}")
    diagram = page.locator("svg#diagram")
    expect(diagram.locator("g.step")).to_have_count(4)
    assert diagram.bounding_box()["width"] > 200  # type: ignore[index]
    shots.take(page, "flow")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_url(f"{base}/flows/{data.flow_id}")
    page.get_by_role("button", name="Resume").click()
    page.wait_for_url(f"{base}/flows/{data.flow_id}")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.locator("#runs").get_by_role("link", name=str(data.run_id), exact=True).click()
    page.wait_for_url(f"{base}/flows/{data.flow_id}/runs/{data.run_id}")
    expect(page.locator("#steps tbody tr")).to_have_count(4)
    shots.take(page, "flow-run")

    # Messages: the log, a message in its sandboxed frame (its script never runs).
    page.get_by_role("link", name="Messages", exact=True).click()
    page.wait_for_url(f"{base}/messages")
    shots.take(page, "messages")
    page.goto(f"{base}/messages/{data.message_id}")
    title = page.title()
    frame = page.frame_locator("#rendered")
    expect(frame.locator("#hello")).to_have_text("Hi Ann, your cart is waiting.")
    assert page.title() == title and "pwned" not in page.title()
    shots.take(page, "message")
    # A template previewed for a contact picked by email.
    page.goto(f"{base}/templates/{data.template_id}")
    page.get_by_label("Preview for contact").fill("carla.diaz@example.com")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-subject")).to_have_text("Welcome, Carla (carla.diaz@example.com)")
    expect(page.frame_locator("#preview").locator("p")).to_contain_text("Hello Carla")
    shots.take(page, "template")
    page.goto(f"{base}/campaigns")
    shots.take(page, "campaigns")
    page.locator("#campaigns").get_by_role("link").first.click()
    expect(page.locator("#figures")).to_contain_text("8")
    # The SMTP check says what went wrong (this server has no relay configured).
    page.goto(f"{base}/settings")
    page.get_by_label("Send a test email to").fill("ops@example.com")
    page.get_by_role("button", name="Send a test email").click()
    expect(page.locator("#smtp-result")).to_contain_text("No SMTP relay is configured")
    page.goto(f"{base}/audit")
    for action in ("flow.pause", "flow.resume", "smtp.check"):
        expect(page.get_by_text(action, exact=True)).to_be_visible()

    # Another store's pages, and another store's rows in this store's pages, are 404s.
    for path in (
        f"/admin/stores/{other_store.store_id}",
        f"/admin/stores/{other_store.store_id}/contacts",
        f"/admin/stores/{store.store_id}/contacts/{theirs.contact_id}",
        f"/admin/stores/{store.store_id}/segments/{theirs.segment_id}",
        f"/admin/stores/{store.store_id}/webhooks/{theirs.webhook_id}",
        f"/admin/stores/{store.store_id}/flows/{theirs.flow_id}",
        f"/admin/stores/{store.store_id}/messages/{theirs.message_id}",
        f"/admin/stores/{store.store_id}/templates/{theirs.template_id}",
        f"/admin/stores/{store.store_id}/campaigns/{theirs.campaign_id}",
    ):
        answer = page.goto(url + path)
        assert answer is not None and answer.status == 404, path
        assert page.get_by_role("heading", name="404 · Not Found").is_visible()

    # A form without its CSRF token is refused, and nothing happens.
    page.goto(f"{base}/settings")
    page.evaluate(
        "document.querySelector('form[action$=\"/settings/keys\"] input[name=csrf]').remove()"
    )
    page.get_by_label("New key's name").fill("sneaky")
    page.get_by_role("button", name="Create a key").click()
    expect(page.get_by_role("heading", name="403 · Forbidden")).to_be_visible()
    refused = context.request.post(f"{base}/settings/rate-limit", form={"rate_limit": "1"})
    assert refused.status == 403
    page.goto(f"{base}/settings")
    assert page.get_by_text("sneaky").count() == 0

    # Sign out: the pages send the browser back to the sign-in page.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{url}/admin/login")
    page.goto(base)
    assert "/admin/login?next=" in page.url
    shots.take(page, "login", full_page=False)
    assert errors == []
    context.close()

    # A phone-sized screen: the same pages, readable.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.set_default_timeout(60_000)
    small = phone.new_page()
    _sign_in(small, url, who.email, who.password)
    small.wait_for_selector("#chart canvas")
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, "the overview scrolls sideways on a phone"
    shots.take(small, "overview-phone")
    small.goto(f"{base}/contacts/{data.contact_id}")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shots.take(small, "contact-phone")
    small.goto(f"{base}/segments/new")
    shots.take(small, "segment-builder-phone")
    for path, name in (
        ("/flows", "flows-phone"),
        (f"/flows/{data.flow_id}", "flow-phone"),
        (f"/flows/{data.flow_id}/runs/{data.run_id}", None),
        (f"/messages/{data.message_id}", "message-phone"),
        ("/campaigns", "campaigns-phone"),
        ("/settings", None),
    ):
        small.goto(base + path)
        wide = small.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"] + 1, f"{path} scrolls sideways on a phone"
        if name:
            shots.take(small, name)
    # Deleting a flow (here by touch) asks first, and the audit log names it.
    small.goto(f"{base}/flows/{data.flow_id}")
    small.get_by_role("button", name="Delete…").tap()
    small.get_by_role("button", name="Delete the flow").tap()
    small.wait_for_url(f"{base}/flows")
    assert small.locator("#flows").get_by_text("Welcome flow").count() == 0
    small.goto(f"{base}/audit")
    expect(small.get_by_text("flow.delete", exact=True)).to_be_visible()
    phone.close()
    with db.read() as session:
        replays = session.execute(
            select(WebhookDelivery.id).where(WebhookDelivery.replay_of_id == data.delivery_id)
        ).all()
    assert len(replays) == 1
