"""Segments benchmark (issue 9, "Speed"): what live segments cost ingest, and what building,
previewing and reading a segment cost over a large history.

For each engine, against ONE server process pinned to core 0 with wrk pinned to core 1,
and the worker (which keeps segments up to date) as ``cartwheel worker``, a process of its
own on core 1 beside wrk (``--worker process``, the default: how a store runs Cartwheel
when a core is free, docs/architecture.md "Processes"), or as the server's in-process
thread (``--worker thread``: the embedded setup, where the worker and the API share one
interpreter lock and one core). Both loads of a run use the same arrangement. It reuses
bench/ingest.py's machinery:

1. **Bulk ingest without and with 20 live segments, in the same run.** A warm-up load first
   creates the load's people, so both measured loads see the same returning contacts. Each
   load is ``POST /v1/events/batch`` for ``--duration`` seconds; "sustained" counts events
   acknowledged AND processed: the events stored divided by the load time plus the time the
   worker then needs to empty the event log's and the outbox's backlogs. Twenty segments of
   mixed kinds (counts, sums, property filters, profile, consent, lists, another segment,
   negations, nested groups) are then created and the load runs again. The wait for the
   worker is bounded (``--drain-limit``); a backlog still left then counts as not processed.
2. **Time from an event's 2xx to the membership it changes**, at that load (run once more,
   so the probes' requests do not tilt the ratio): a probe thread sends one event for a new
   person at a time (the twentieth segment is "did Bench Probe")
   and polls ``GET /v1/contacts/{id}/segments`` until the segment shows up.
3. **A large history** in a second store: ``--scale`` × 100,000 contacts and 1,000,000
   events (over the last 365 days, inserted directly as already processed, as an import
   would leave them). Then: building a new segment over it (``POST /v1/segments``, which
   builds within the request), a preview count (``POST /v1/segments/preview``) and reading
   the segment's size (``GET /v1/segments/{id}``).

    python -m bench.segments                         # both engines, full scale, 10 s loads
    python -m bench.segments --engine sqlite --scale 0.1 --duration 5

PostgreSQL: the server named by CARTWHEEL_BENCH_POSTGRES_URL (an admin URL), else a
throwaway cluster (needs initdb), as bench/ingest.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from bench.ingest import PYTHON, ROOT, Run, backlog, database, server, wrk
from cartwheel.db import Database
from cartwheel.migrate import migrate
from cartwheel.models import Contact, Event, OutboxMessage
from cartwheel.models.base import utcnow, uuid7
from cartwheel.stores import service as stores

PROBE_EVENT = "Bench Probe"

#: Nineteen segments over what the load sends (Viewed Product with sku and price, people
#: with an email), mixing every kind of condition; the twentieth is the probe's.
LIVE_SEGMENTS: list[dict[str, Any]] = [
    {"event": "Viewed Product"},
    {"event": "Viewed Product", "count": {"gte": 3}, "within": {"days": 7}},
    {"event": "Viewed Product", "count": {"gte": 10}, "within": {"hours": 1}},
    {"event": "Viewed Product", "sum": "price", "op": "gte", "value": 100, "within": {"days": 30}},
    {
        "event": "Viewed Product",
        "where": {"all": [{"property": "sku", "op": "eq", "value": "TSH-7"}]},
    },
    {
        "event": "Viewed Product",
        "count": {"gte": 2},
        "where": {"all": [{"property": "price", "op": "gte", "value": 20}]},
        "within": {"days": 30},
    },
    {"not": {"event": "Viewed Product", "within": {"minutes": 5}}},
    {"event": {"category": "order", "action": "completed"}, "within": {"days": 365}},
    {
        "event": {"category": "order", "action": "completed"},
        "sum": "value",
        "op": "gte",
        "value": 500,
        "within": {"days": 365},
    },
    {"profile": "email", "op": "contains", "value": "@bench.example"},
    {"profile": "email", "op": "starts_with", "value": "person1"},
    {"profile": "customFields.Loyalty Tier", "op": "eq", "value": "Gold"},
    {"consent": "email", "status": "subscribed"},
    {
        "all": [
            {"event": "Viewed Product", "count": {"gte": 2}, "within": {"days": 1}},
            {"profile": "email", "op": "exists"},
        ]
    },
    {
        "any": [
            {"event": "Viewed Product", "count": {"gte": 5}},
            {"profile": "countryCode", "op": "in", "value": ["US", "CA"]},
        ]
    },
    {
        "all": [
            {"event": "Viewed Product", "within": {"days": 30}},
            {"not": {"event": "Order Refunded", "within": {"days": 30}}},
        ]
    },
    {"any": [{"list": "$list"}, {"event": "Viewed Product", "count": {"gte": 20}}]},
    {"all": [{"segment": "$first"}, {"event": "Viewed Product", "count": {"gte": 4}}]},
    {"not": {"segment": "$first"}},
]

#: The new segment built over the large history: the issue's example, without the list,
#: the other segment and the birthday (which the generated history has no data for).
BUILD_CONDITION: dict[str, Any] = {
    "all": [
        {
            "event": "Order Placed",
            "count": {"gte": 2},
            "within": {"days": 30},
            "where": {"all": [{"property": "total", "op": "gte", "value": 20}]},
        },
        {
            "event": {"category": "order", "action": "completed"},
            "sum": "value",
            "op": "gte",
            "value": 100,
            "within": {"days": 365},
        },
        {"profile": "countryCode", "op": "in", "value": ["US", "CA"]},
        {"not": {"event": "Order Refunded", "within": {"days": 30}}},
        {"consent": "email", "status": "subscribed"},
    ]
}


@dataclass
class Load:
    run: Run
    stored: int
    drain_seconds: float
    duration: int
    #: Events and outbox messages still unprocessed when the drain limit ran out.
    left: int

    @property
    def sustained(self) -> float:
        """Events acknowledged and processed per second (a backlog left counts as not done)."""
        return max(0, self.stored - self.left) / (self.duration + self.drain_seconds)


@dataclass
class Probes:
    """Event 2xx → membership visible, in milliseconds, for probes sent during a load."""

    latencies: list[float] = field(default_factory=list)
    timeouts: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def p(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pending(db: Database) -> int:
    with db.read() as session:
        outbox = session.scalar(select(func.count()).where(OutboxMessage.processed_at.is_(None)))
    return backlog(db) + int(outbox or 0)


def stored_events(db: Database, store_id: int) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).where(Event.store_id == store_id)) or 0)


def load(
    db: Database, port: int, store_id: int, env: dict[str, str], args: argparse.Namespace
) -> Load:
    before = stored_events(db, store_id)
    run = wrk(
        port,
        args.duration,
        args.bulk_connections,
        {**env, "BATCH": str(args.batch)},
        "/v1/events/batch",
    )
    run.events_per_request = args.batch
    say(f"load done: {run.events_per_second:,.0f} events/s acknowledged; draining")
    started = time.perf_counter()
    left = pending(db)
    while left > 0 and time.perf_counter() - started < args.drain_limit:
        time.sleep(0.2)
        left = pending(db)
    drained = time.perf_counter() - started
    say(f"drained in {drained:.1f} s, {left:,} left")
    return Load(run, stored_events(db, store_id) - before, drained, args.duration, left)


def probe(client: httpx.Client, segment_id: int, probes: Probes) -> None:
    """Until told to stop: one new person at a time does the probe event; how long after
    the 2xx is the person in the probe segment?"""
    while not probes.stop.is_set():
        email = f"probe-{uuid.uuid4().hex[:12]}@probe.example"
        try:
            answer = client.post(
                "/v1/events", json={"name": PROBE_EVENT, "contact": {"email": email}}
            )
            acknowledged = time.perf_counter()
            answer.raise_for_status()
            contact_id = answer.json()["contactId"]
            deadline = acknowledged + 60
            while time.perf_counter() < deadline:
                items = client.get(f"/v1/contacts/{contact_id}/segments").json()["items"]
                if any(item["segmentId"] == segment_id for item in items):
                    probes.latencies.append((time.perf_counter() - acknowledged) * 1000)
                    break
                time.sleep(0.02)
            else:
                probes.timeouts += 1
        except httpx.HTTPError as exc:  # a stalled server is a result, not a crash
            say(f"probe failed: {exc!r}")
            probes.timeouts += 1
        probes.stop.wait(0.5)


def create_segments(client: httpx.Client) -> tuple[list[int], int]:
    """The twenty live segments; returns their ids and the probe segment's."""
    listed = client.post("/v1/subscriber-lists", json={"name": "Bench list"})
    listed.raise_for_status()
    list_id = listed.json()["id"]
    ids: list[int] = []
    for n, condition in enumerate(LIVE_SEGMENTS):
        names = {"$list": list_id, "$first": ids[0] if ids else 0}
        ids.append(_create(client, f"Live {n + 1}", _named(condition, names)))
    probe_id = _create(client, "Probe", {"event": PROBE_EVENT})
    return [*ids, probe_id], probe_id


def _named(value: Any, names: dict[str, int]) -> Any:
    """``value`` with the placeholders ``$list`` and ``$first`` replaced by ids."""
    if isinstance(value, dict):
        return {key: _named(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_named(item, names) for item in value]
    return names.get(value, value) if isinstance(value, str) else value


def _create(client: httpx.Client, name: str, condition: dict[str, Any]) -> int:
    answer = client.post("/v1/segments", json={"name": name, "condition": condition})
    if answer.status_code != 201:
        sys.exit(f"creating segment {name!r} failed: {answer.status_code} {answer.text}")
    segment_id: int = answer.json()["id"]
    return segment_id


@contextlib.contextmanager
def worker_process(env: dict[str, str], arrangement: str) -> Iterator[None]:
    """With ``arrangement`` "process": ``cartwheel worker`` as a process of its own, pinned
    to core 1 (beside wrk, which uses little of it); with "thread", nothing (the server's
    in-process worker does the work, on the server's core)."""
    if arrangement != "process":
        yield
        return
    command = ["taskset", "-c", "1", PYTHON, "-m", "cartwheel", "worker"]
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def history(db: Database, store_id: int, contacts: int, events: int) -> float:
    """Insert ``contacts`` people and ``events`` events of theirs; returns the seconds."""
    rng = random.Random(9)
    now = utcnow()
    started = time.perf_counter()
    countries = ["US", "CA", "GB", "DE", "FR", "US", "US", "CA"]
    tiers = ["Gold", "Silver", "Bronze", None]
    chunk = 5_000
    with db.transaction() as session:
        first = int(session.scalar(select(func.coalesce(func.max(Contact.id), 0))) or 0) + 1
    for start in range(0, contacts, chunk):
        rows = []
        for n in range(start, min(contacts, start + chunk)):
            tier = tiers[n % 4]
            rows.append(
                {
                    "id": first + n,
                    "store_id": store_id,
                    "uuid": uuid.uuid4(),
                    "email": f"person{n}@history.example",
                    "country_code": countries[n % len(countries)],
                    "custom_fields": {"Loyalty Tier": tier} if tier else {},
                    "tags": [],
                    "subscribed": n % 3 != 0,
                    "is_contact": True,
                    "created_at": now - timedelta(days=400),
                    "updated_at": now,
                }
            )
        with db.transaction() as session:
            session.execute(insert(Contact), rows)
    kinds = [
        ("Viewed Product", None, None),
        ("Viewed Product", None, None),
        ("Viewed Product", None, None),
        ("Added to Cart", None, None),
        ("Order Placed", None, None),
        ("Order Completed", "order", "completed"),
        ("Order Refunded", "order", "refunded"),
    ]
    for start in range(0, events, chunk):
        rows = []
        for _ in range(start, min(events, start + chunk)):
            name, category, action = kinds[rng.randrange(len(kinds))]
            total = round(rng.uniform(5, 300), 2)
            occurred = now - timedelta(seconds=rng.randrange(365 * 86_400))
            rows.append(
                {
                    "id": uuid7(),
                    "store_id": store_id,
                    "contact_id": first + rng.randrange(contacts),
                    "name": name,
                    "category": category,
                    "action": action,
                    "occurred_at": occurred,
                    "received_at": occurred,
                    "properties": {"total": total, "sku": f"SKU-{rng.randrange(500)}"},
                    "property_types": {"total": "number", "sku": "string"},
                    "extra": {},
                    "value": total if category else None,
                    "currency": "USD" if category else None,
                    "silent": False,
                    "attempts": 0,
                }
            )
        with db.transaction() as session:
            session.execute(insert(Event), rows)
    return time.perf_counter() - started


def timed(call: Any, times: int) -> list[float]:
    """Milliseconds of ``times`` calls, each checked for a 2xx."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        answer = call()
        spent.append((time.perf_counter() - started) * 1000)
        if answer.status_code >= 300:
            sys.exit(f"{answer.request.url}: {answer.status_code} {answer.text}")
    return spent


def new_store(db: Database, name: str) -> tuple[int, str]:
    with db.transaction() as session:
        created = stores.create_store(session, f"{name} {uuid.uuid4().hex[:6]}")
        stores.set_rate_limit(session, created.store_id, 1e9)
    return created.store_id, created.api_key


def bench_engine(engine: str, args: argparse.Namespace) -> list[str]:
    contacts, events = int(100_000 * args.scale), int(1_000_000 * args.scale)
    with database(engine) as url:
        db = Database(url)
        migrate(db.engine)
        store_id, key = new_store(db, "bench live")
        big_store, big_key = new_store(db, "bench history")
        env = {
            "CARTWHEEL_DATABASE_URL": url,
            "CARTWHEEL_RATE_LIMIT_PER_SECOND": "1000000000",
            "CW_KEY": key,
            "CARTWHEEL_SECRET_KEYS": Fernet.generate_key().decode(),
        }
        probes = Probes()
        serving = env
        if args.worker == "process":
            serving = {**env, "CARTWHEEL_RUN_WORKER_IN_PROCESS": "false"}
        with (
            server("cartwheel.app:create_app", serving, factory=True) as port,
            worker_process(env, args.worker),
        ):
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                say(f"{engine}: warm-up load")
                load(db, port, store_id, env, args)  # warm-up: the load's people now exist
                say("load without segments")
                without = load(db, port, store_id, env, args)
                say("creating the live segments")
                started = time.perf_counter()
                _, probe_id = create_segments(client)
                live_build = time.perf_counter() - started
                say(f"load with segments (created in {live_build:.1f} s)")
                with_segments = load(db, port, store_id, env, args)
                # Probes in a load of their own: their requests must not tilt the ratio.
                say("load with segments and probes")
                thread = threading.Thread(target=probe, args=(client, probe_id, probes))
                thread.start()
                try:
                    load(db, port, store_id, env, args)
                finally:
                    probes.stop.set()
                    thread.join(90)
        # The history goes in with no server running, and the reads run on a server without
        # a worker: what is left of the live store's backlog must not share their time.
        say(f"history: {contacts:,} contacts, {events:,} events")
        inserted = history(db, big_store, contacts, events)
        say(f"history inserted in {inserted:.0f} s; building")
        reads = {**env, "CARTWHEEL_RUN_WORKER_IN_PROCESS": "false"}
        with server("cartwheel.app:create_app", reads, factory=True) as port:
            base = f"http://127.0.0.1:{port}"
            big = {"Authorization": f"Bearer {big_key}"}
            with httpx.Client(base_url=base, headers=big, timeout=600) as client:
                body = {"name": "Repeat buyers, North America", "condition": BUILD_CONDITION}
                started = time.perf_counter()
                built = client.post("/v1/segments", json=body)
                build_ms = (time.perf_counter() - started) * 1000
                if built.status_code != 201:
                    sys.exit(f"building failed: {built.status_code} {built.text}")
                segment = built.json()
                preview = timed(
                    lambda: client.post(
                        "/v1/segments/preview", json={"condition": BUILD_CONDITION}
                    ),
                    3,
                )
                size = timed(lambda: client.get(f"/v1/segments/{segment['id']}"), 50)
        db.dispose()

    ratio = with_segments.sustained / without.sustained
    lines = [f"### {engine}", ""]
    lines.append(
        "| bulk ingest | acknowledged events/s | p99 ms | errors | drain s | left | "
        "sustained events/s |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for label, run in (("without segments", without), ("with 20 live segments", with_segments)):
        lines.append(
            f"| {label} | {run.run.events_per_second:,.0f} | {run.run.p99_ms:.1f} | "
            f"{run.run.errors} | {run.drain_seconds:.1f} | {run.left:,} | {run.sustained:,.0f} |"
        )
    lines += [
        "",
        f"- sustained with / without segments: **{ratio:.2f}×** (target ≥ 0.8×)",
        f"- event 2xx → membership, at that load: p50 {probes.p(0.5):.0f} ms, "
        f"p99 {probes.p(0.99):.0f} ms over {len(probes.latencies)} probes "
        f"({probes.timeouts} failed or timed out after 60 s)",
        f"- creating the 20 live segments (small store): {live_build:.1f} s",
        "",
        f"| over {contacts:,} contacts and {events:,} events | time | target |",
        "|---|---:|---:|",
        f"| build a new segment (`POST /v1/segments`, size {segment['size']:,}) | "
        f"{build_ms / 1000:.2f} s | ≤ 30 s |",
        f"| preview count (median of 3) | {statistics.median(preview):.0f} ms | ≤ 1 s |",
        f"| read a segment's size (median / max of 50) | {statistics.median(size):.1f} / "
        f"{max(size):.1f} ms | ≤ 50 ms |",
        "",
        f"- history inserted directly in {inserted:.0f} s (setup, not measured)",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per ingest load")
    parser.add_argument("--bulk-connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--drain-limit",
        type=int,
        default=300,
        help="seconds to wait for the worker after a load (what is left counts as not done)",
    )
    parser.add_argument(
        "--worker",
        choices=["thread", "process"],
        default="process",
        help="`cartwheel worker` as a process of its own on core 1 (the default), or the "
        "worker in the server's process, on its core; both loads use the same arrangement",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="of 100,000 contacts and 1,000,000 events"
    )
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("taskset"):
        sys.exit("the benchmark needs wrk and taskset (Debian: apt-get install wrk util-linux)")
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    report = [
        f"Segments benchmark: {args.duration}s loads, {args.bulk_connections} connections × "
        f"{args.batch} events, scale {args.scale}, server on core 0, wrk on core 1, "
        f"worker: {'its own process on core 1' if args.worker == 'process' else 'in the server'}, "
        f"python {sys.version.split()[0]}",
        "",
    ]
    for engine in engines:
        report += bench_engine(engine, args)
    print("\n".join(report))


if __name__ == "__main__":
    main()
