"""Back-office benchmark (issue 13, "Quality"): the server time of every page on a store
with ``--scale`` × 100,000 contacts and 1,000,000 events; the target is 200 ms or less.

For each engine: the store's history is inserted directly (bench/segments.py's generator:
events over the last 365 days, already processed, as an import leaves them), plus a week
of per-minute ingest counts in two wire formats (what the ingest writer keeps for the
overview's chart), one contact with 5,000 events of its own, the email identifiers of the
history's contacts (bench/segments.py inserts contacts alone), three segments built over
the history through the API, and a webhook with 20,000 deliveries (a tenth failed, each
with its attempt); a template, a campaign and a published flow made through the API, the
flow with 20,000 runs (four step-log rows each; a fifth still waiting at its first step),
and 200,000 messages over the last week (each with 1.5 KB of rendered HTML; half of them
the campaign's, a twentieth failed or bounced, a third opened, 50 to the heavy contact).
Then ONE server process (no worker), pinned to core 0, serves the pages to a signed-in
operator, each ``--times`` times after two warm-up loads. "server" is the page's
``Server-Timing: app;dur=`` (the route's own time, dependencies and template included);
"round trip" is the client's, over loopback.

    python -m bench.admin                          # both engines, full scale
    python -m bench.admin --engine sqlite --scale 0.1 --times 10

PostgreSQL: the server named by CARTWHEEL_BENCH_POSTGRES_URL (an admin URL), else a
throwaway cluster (needs initdb), as bench/ingest.py.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from bench.ingest import database, server
from bench.segments import history, new_store, say
from cartwheel import sealing
from cartwheel.admin import accounts
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.migrate import migrate
from cartwheel.models import (
    Contact,
    ContactIdentifier,
    Event,
    EventMinute,
    FlowRun,
    FlowRunStep,
    Message,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from cartwheel.models.base import utcnow, uuid7

PASSWORD = "bench operator password"
TARGET_MS = 200.0
SEGMENTS: list[tuple[str, dict[str, Any]]] = [
    ("Buyers, 30 days", {"event": "Order Placed", "within": {"days": 30}}),
    ("Gold tier", {"profile": "customFields.Loyalty Tier", "op": "eq", "value": "Gold"}),
    (
        "Repeat buyers, North America",
        {
            "all": [
                {"event": "Order Placed", "count": {"gte": 2}, "within": {"days": 90}},
                {"profile": "countryCode", "op": "in", "value": ["US", "CA"]},
            ]
        },
    ),
]


def extras(db: Database, store_id: int, heavy_contact: int, deliveries: int) -> str:
    """The overview's week of ingest counts, a contact with 5,000 events, a webhook with
    ``deliveries`` deliveries; returns the webhook's public id."""
    rng = random.Random(13)
    now = utcnow().replace(second=0, microsecond=0)
    minutes = [
        {
            "store_id": store_id,
            "minute": int(now.timestamp()) // 60 - m,
            "wire": wire,
            "shard": 1,
            "count": rng.randrange(20, 200),
        }
        for m in range(7 * 24 * 60)
        for wire in ("native", "omnisend")
    ]
    with db.transaction() as session:
        for start in range(0, len(minutes), 5_000):
            session.execute(insert(EventMinute), minutes[start : start + 5_000])
        session.execute(
            insert(Event),
            [
                {
                    "id": uuid7(),
                    "store_id": store_id,
                    "contact_id": heavy_contact,
                    "name": f"Viewed Page {n % 40}",
                    "occurred_at": now - timedelta(minutes=n),
                    "received_at": now - timedelta(minutes=n),
                    "properties": {"path": f"/p/{n}"},
                    "property_types": {"path": "string"},
                    "extra": {},
                    "silent": False,
                    "attempts": 0,
                }
                for n in range(5_000)
            ],
        )
        public_id = f"rh_{rng.randrange(10**10, 10**11)}"
        webhook = WebhookSubscription(
            store_id=store_id,
            public_id=public_id,
            target="https://hooks.example.com/cartwheel",
            secret="bench-secret-bench",
            events=["contact_updated", "order_created"],
            status="active",
            created_at=now,
            updated_at=now,
        )
        session.add(webhook)
        session.flush()
        for start in range(0, deliveries, 5_000):
            rows = []
            for n in range(start, min(deliveries, start + 5_000)):
                failed = n % 10 == 0
                at = now - timedelta(seconds=30 * (deliveries - n))
                rows.append(
                    {
                        "store_id": store_id,
                        "subscription_id": webhook.id,
                        "message_id": f"msg_{uuid.uuid4().hex}",
                        "event_type": "contact_updated",
                        "body": json.dumps({"contactId": n + 1}),
                        "status": "failed" if failed else "succeeded",
                        "attempts": 1,
                        "last_attempt_at": at,
                        "last_status_code": 500 if failed else 200,
                        "last_latency_ms": rng.randrange(20, 400),
                        "created_at": at,
                        "completed_at": at,
                    }
                )
            ids = session.execute(
                insert(WebhookDelivery).returning(WebhookDelivery.id), rows
            ).scalars()
            session.execute(
                insert(WebhookAttempt),
                [
                    {
                        "store_id": store_id,
                        "delivery_id": delivery_id,
                        "attempted_at": row["created_at"],
                        "status_code": row["last_status_code"],
                        "latency_ms": row["last_latency_ms"],
                        "succeeded": row["status"] == "succeeded",
                    }
                    for delivery_id, row in zip(ids, rows, strict=True)
                ],
            )
    return public_id


FLOW: dict[str, Any] = {
    "name": "Welcome series",
    "trigger": {"event": "Signed Up"},
    "goal": {"event": "Order Placed", "within": {"days": 7}},
    "start": "wait",
    "steps": {
        "wait": {"type": "wait", "for": {"hours": 4}, "next": "vip"},
        "vip": {
            "type": "branch",
            "if": {"profile": "customFields.Loyalty Tier", "op": "eq", "value": "Gold"},
            "then": "tag",
            "else": "end",
        },
        "tag": {"type": "update_profile", "set": {"customFields.welcomed": True}, "next": "end"},
        "end": {"type": "exit"},
    },
}
#: A rendered marketing email's HTML, about 1.5 KB (what the message log keeps per row).
HTML = (
    "<html><head></head><body><table role='presentation' width='100%'>"
    + "<tr><td style='padding:12px;font-family:Helvetica,Arial,sans-serif;color:#333'>"
    "Spring sale: 20 % off trail wear. See what is new this week.</td></tr>"
    * 10
    + "</table></body></html>"
)


def flow_runs(
    db: Database, store_id: int, flow_id: int, first: int, contacts: int, runs: int
) -> int:
    """``runs`` runs of the flow, each over its own contact: four in five finished (wait,
    vip, tag or not, end), the rest waiting at ``wait``. Returns a finished run's id."""
    now = utcnow()
    finished_id = 0
    for start in range(0, runs, 2_000):
        rows: list[dict[str, Any]] = []
        for n in range(start, min(runs, start + 2_000)):
            active = n % 5 == 0
            began = now - timedelta(minutes=n % 10_000)
            rows.append(
                {
                    "store_id": store_id,
                    "flow_id": flow_id,
                    "version": 1,
                    "contact_id": first + n % contacts,
                    "key": "",
                    "state": "active" if active else "done",
                    "step": "wait" if active else "end",
                    "seq": 1 if active else 4,
                    # An active run waits in its first visit, which is its own columns (the
                    # step log gets the visit's row when it ends).
                    "step_at": began,
                    "waiting": {"kind": "timer"} if active else None,
                    "deadline": now + timedelta(days=7) if active else None,
                    "wake_at": now + timedelta(days=7) if active else None,
                    "trigger_at": began,
                    "trigger": {"source": "event", "event": {"name": "Signed Up"}},
                    "test": False,
                    "started_at": began,
                    "updated_at": began,
                    "finished_at": None if active else began + timedelta(hours=4),
                }
            )
        with db.transaction() as session:
            ids = list(session.execute(insert(FlowRun).returning(FlowRun.id), rows).scalars())
            steps: list[tuple[int, int, str, str, str, datetime, datetime | None]] = []
            for run_id, row in zip(ids, rows, strict=True):
                at = row["started_at"]
                if row["state"] == "active":
                    continue
                finished_id = run_id
                later = at + timedelta(hours=4)
                path = ["wait", "vip", "tag", "end"] if run_id % 3 else ["wait", "vip", "end"]
                for seq, step in enumerate(path, 1):
                    kind = {"wait": "wait", "vip": "branch", "tag": "update_profile"}.get(
                        step, "exit"
                    )
                    steps.append((run_id, seq, step, kind, "done", later, later))
            session.execute(
                insert(FlowRunStep),
                [
                    {
                        "run_id": run_id,
                        "seq": seq,
                        "flow_id": flow_id,
                        "step": step,
                        "type": kind,
                        "status": status,
                        "detail": {},
                        "entered_at": entered,
                        "finished_at": left,
                    }
                    for run_id, seq, step, kind, status, entered, left in steps
                ],
            )
    return finished_id


def messages(
    db: Database,
    store_id: int,
    template_id: int,
    campaign_id: int,
    first: int,
    contacts: int,
    heavy: int,
    count: int,
) -> int:
    """``count`` messages over the last week, newest last; returns the newest's id."""
    now = utcnow()
    newest = 0
    for start in range(0, count, 5_000):
        rows: list[dict[str, Any]] = []
        for n in range(start, min(count, start + 5_000)):
            at = now - timedelta(seconds=(count - n) * 604_800 // count)
            status = "failed" if n % 40 == 0 else "bounced" if n % 40 == 1 else "sent"
            contact = heavy if n % (count // 50 or 1) == 0 else first + n % contacts
            rows.append(
                {
                    "store_id": store_id,
                    "contact_id": contact,
                    "template_id": template_id,
                    "campaign_id": campaign_id if n % 2 == 0 else None,
                    "channel": "email",
                    "topic": "marketing",
                    "idempotency_key": f"bench-{n}",
                    "status": status,
                    "to_address": f"person{contact - first}@history.example",
                    "context": {},
                    "subject": "Spring sale: 20 % off trail wear",
                    "html": HTML,
                    "text": "Spring sale: 20 % off trail wear.",
                    "attempts": 1,
                    "created_at": at,
                    "sent_at": at if status == "sent" else None,
                    "opened_at": at if n % 3 == 0 and status == "sent" else None,
                    "clicked_at": at if n % 11 == 0 and status == "sent" else None,
                    "opens": 1 if n % 3 == 0 else 0,
                    "clicks": 1 if n % 11 == 0 else 0,
                    "last_error": "550 5.1.1 No such user" if status == "bounced" else None,
                }
            )
        with db.transaction() as session:
            ids = session.execute(insert(Message).returning(Message.id), rows).scalars()
            newest = max(ids)
    return newest


def identifiers(db: Database, store_id: int, first: int, contacts: int) -> None:
    """The history's contacts get the email identifiers the resolver would have given them
    (bench/segments.py inserts contacts only), so a search by email finds its owner."""
    now = utcnow()
    for start in range(0, contacts, 10_000):
        with db.transaction() as session:
            session.execute(
                insert(ContactIdentifier),
                [
                    {
                        "store_id": store_id,
                        "contact_id": first + n,
                        "kind": "email",
                        "value": f"person{n}@history.example",
                        "created_at": now,
                    }
                    for n in range(start, min(contacts, start + 10_000))
                ],
            )


def sign_in(client: httpx.Client, email: str) -> str:
    page = client.get("/admin/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/admin/login",
        data={"csrf": token.group(1), "email": email, "password": PASSWORD, "next": "/admin"},
    )
    if answer.status_code != 303:
        sys.exit(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    home = client.get("/admin", follow_redirects=True)
    found = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert found is not None
    return found.group(1)


def measure(
    client: httpx.Client, method: str, url: str, times: int, **kwargs: Any
) -> tuple[list[float], list[float]]:
    """(server ms, round-trip ms) of ``times`` loads, after two warm-ups."""
    server_ms: list[float] = []
    round_ms: list[float] = []
    for n in range(times + 2):
        started = time.perf_counter()
        answer = client.request(method, url, **kwargs)
        spent = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            sys.exit(f"{method} {url}: {answer.status_code} {answer.text[:300]}")
        timing = re.search(r"app;dur=([\d.]+)", answer.headers.get("server-timing", ""))
        assert timing is not None
        if n >= 2:
            server_ms.append(float(timing.group(1)))
            round_ms.append(spent)
    return server_ms, round_ms


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def bench_engine(engine: str, args: argparse.Namespace) -> list[str]:
    contacts, events = int(100_000 * args.scale), int(1_000_000 * args.scale)
    deliveries = max(1_000, int(20_000 * args.scale))
    runs = max(1_000, int(20_000 * args.scale))
    sent = max(2_000, int(200_000 * args.scale))
    secret_key = Fernet.generate_key().decode()
    # The webhook's secret is sealed here under the key the server will be given.
    sealing.configure(sealing.load_keyring(Settings(secret_keys=secret_key)))
    with database(engine) as url:
        db = Database(url)
        migrate(db.engine)
        store_id, key = new_store(db, "bench admin")
        say(f"{engine}: history, {contacts:,} contacts and {events:,} events")
        inserted = history(db, store_id, contacts, events)
        with db.read() as session:
            first = int(
                session.scalar(select(func.min(Contact.id)).where(Contact.store_id == store_id))
                or 0
            )
        heavy = first + 7
        identifiers(db, store_id, first, contacts)
        webhook_id = extras(db, store_id, heavy, deliveries)
        email = f"bench-{uuid.uuid4().hex[:6]}@ops.example"
        with db.transaction() as session:
            accounts.create_operator(session, email, PASSWORD, [store_id])
        env = {
            "CARTWHEEL_DATABASE_URL": url,
            "CARTWHEEL_RATE_LIMIT_PER_SECOND": "1000000000",
            "CARTWHEEL_RUN_WORKER_IN_PROCESS": "false",
            "CARTWHEEL_SECRET_KEYS": secret_key,
        }
        say(f"history inserted in {inserted:.0f} s; serving")
        rows: list[tuple[str, list[float], list[float]]] = []
        with server("cartwheel.app:create_app", env, factory=True) as port:
            base_url = f"http://127.0.0.1:{port}"
            api = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base_url, headers=api, timeout=600) as client:
                segment_ids = []
                for name, condition in SEGMENTS:
                    made = client.post("/v1/segments", json={"name": name, "condition": condition})
                    if made.status_code != 201:
                        sys.exit(f"segment {name!r}: {made.status_code} {made.text}")
                    segment_ids.append(made.json()["id"])
                template = client.post(
                    "/v1/templates",
                    json={
                        "name": "Spring sale",
                        "channel": "email",
                        "subject": "{{ contact.firstName }}, 20 % off trail wear",
                        "html": "<p>Hi {{ contact.firstName }}!</p>" + HTML,
                    },
                )
                campaign = client.post(
                    "/v1/campaigns",
                    json={
                        "name": "Spring sale",
                        "templateId": template.json()["id"],
                        "segmentId": segment_ids[1],
                        "sendAt": "2099-01-01T00:00:00Z",
                    },
                )
                flow = client.post("/v1/flows", json=FLOW)
                for made in (template, campaign, flow):
                    if made.status_code != 201:
                        sys.exit(f"{made.request.url}: {made.status_code} {made.text}")
                flow_id = flow.json()["id"]
                client.post(f"/v1/flows/{flow_id}/publish").raise_for_status()
            template_id, campaign_id = template.json()["id"], campaign.json()["id"]
            say(f"{runs:,} flow runs and {sent:,} messages")
            run_id = flow_runs(db, store_id, flow_id, first, contacts, runs)
            message_id = messages(
                db, store_id, template_id, campaign_id, first, contacts, heavy, sent
            )
            with httpx.Client(base_url=base_url, timeout=600) as web:
                csrf = sign_in(web, email)
                base = f"/admin/stores/{store_id}"
                timeline = web.get(f"{base}/contacts/{heavy}")
                cursor = re.search(r"cursor=([^\"&]+)\"", timeline.text)
                assert cursor is not None
                segment = segment_ids[-1]
                preview = {
                    "csrf": csrf,
                    "match": "all",
                    "kind": "did",
                    "event": "Order Placed",
                    "min_count": "2",
                    "within_days": "30",
                    "field": "",
                    "op": "eq",
                    "value": "",
                    "consent": "subscribed",
                }
                pages: list[tuple[str, str, str, dict[str, Any]]] = [
                    ("overview, last hour", "GET", base, {}),
                    ("overview, last day", "GET", f"{base}?span=day", {}),
                    ("overview, last week", "GET", f"{base}?span=week", {}),
                    ("contacts, newest", "GET", f"{base}/contacts", {}),
                    ("search by email", "GET", f"{base}/contacts?q=person4242@history.example", {}),
                    (
                        "search by name (no match: a full scan)",
                        "GET",
                        f"{base}/contacts?q=zz-nobody",
                        {},
                    ),
                    ("search by email prefix", "GET", f"{base}/contacts?q=person99", {}),
                    ("contact profile (5,000 events)", "GET", f"{base}/contacts/{heavy}", {}),
                    (
                        "timeline, next page (HTMX)",
                        "GET",
                        f"{base}/contacts/{heavy}/timeline?cursor={cursor.group(1)}",
                        {"headers": {"HX-Request": "true"}},
                    ),
                    (
                        "timeline filtered by name",
                        "GET",
                        f"{base}/contacts/{heavy}?name=Viewed+Page+7",
                        {},
                    ),
                    ("segments list", "GET", f"{base}/segments", {}),
                    ("segment: size, history, members", "GET", f"{base}/segments/{segment}", {}),
                    (
                        "large segment (Gold tier): members, first page",
                        "GET",
                        f"{base}/segments/{segment_ids[1]}",
                        {},
                    ),
                    (
                        "large segment: members, deep page (skip 5,000)",
                        "GET",
                        f"{base}/segments/{segment_ids[1]}?skip=5000",
                        {},
                    ),
                    (
                        "segment explain",
                        "GET",
                        f"{base}/segments/{segment}/explain?contact={heavy}",
                        {},
                    ),
                    (
                        "builder preview (count over the history)",
                        "POST",
                        f"{base}/segments/preview",
                        {"data": preview},
                    ),
                    ("webhooks", "GET", f"{base}/webhooks", {}),
                    ("delivery log", "GET", f"{base}/webhooks/{webhook_id}", {}),
                    (
                        "delivery log, failed only, deep page",
                        "GET",
                        f"{base}/webhooks/{webhook_id}?status=failed&skip=1000",
                        {},
                    ),
                    ("settings", "GET", f"{base}/settings", {}),
                    ("audit log", "GET", f"{base}/audit", {}),
                    ("flows", "GET", f"{base}/flows", {}),
                    (
                        f"flow: diagram, step figures, runs ({runs:,} runs)",
                        "GET",
                        f"{base}/flows/{flow_id}",
                        {},
                    ),
                    (
                        "flow: active runs, deep page",
                        "GET",
                        f"{base}/flows/{flow_id}?state=active&skip=1000",
                        {},
                    ),
                    ("a run's step log", "GET", f"{base}/flows/{flow_id}/runs/{run_id}", {}),
                    ("message log", "GET", f"{base}/messages", {}),
                    (
                        "message log, bounced only, deep page",
                        "GET",
                        f"{base}/messages?status=bounced&skip=1000",
                        {},
                    ),
                    ("a message (sandboxed content)", "GET", f"{base}/messages/{message_id}", {}),
                    ("templates", "GET", f"{base}/templates", {}),
                    (
                        "template preview for a contact (by email)",
                        "GET",
                        f"{base}/templates/{template_id}?contact=person4242@history.example",
                        {},
                    ),
                    ("campaigns (sent/opened/clicked)", "GET", f"{base}/campaigns", {}),
                    ("a campaign and its messages", "GET", f"{base}/campaigns/{campaign_id}", {}),
                ]
                for label, method, url_, kwargs in pages:
                    if args.pages and not any(part in label for part in args.pages):
                        continue
                    say(label)
                    spent, round_trip = measure(web, method, url_, args.times, **kwargs)
                    rows.append((label, spent, round_trip))
        db.dispose()
    lines = [
        f"### {engine}",
        "",
        f"{contacts:,} contacts, {events:,} events (+5,000 on one contact), {deliveries:,} "
        f"deliveries, {runs:,} flow runs, {sent:,} messages; {args.times} loads per page "
        "after two warm-ups.",
        "",
        "| page | server median ms | server p95 ms | server max ms | round trip median ms | "
        f"≤ {TARGET_MS:.0f} ms |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for label, spent, round_trip in rows:
        ok = "yes" if p95(spent) <= TARGET_MS else "**no**"
        lines.append(
            f"| {label} | {statistics.median(spent):.1f} | {p95(spent):.1f} | "
            f"{max(spent):.1f} | {statistics.median(round_trip):.1f} | {ok} |"
        )
    lines += ["", f"- history inserted directly in {inserted:.0f} s (setup, not measured)", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="of 100,000 contacts and 1,000,000 events"
    )
    parser.add_argument("--times", type=int, default=20, help="measured loads per page")
    parser.add_argument(
        "--pages",
        nargs="*",
        default=[],
        metavar="WORDS",
        help="measure only the pages whose label contains one of these (default: every page)",
    )
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    report = [
        f"Back-office benchmark: scale {args.scale}, server on core 0, "
        f"python {sys.version.split()[0]}",
        "",
    ]
    print("\n".join(report), flush=True)
    for engine in engines:  # each engine's table as soon as it is measured
        print("\n".join(bench_engine(engine, args)), flush=True)


if __name__ == "__main__":
    main()
