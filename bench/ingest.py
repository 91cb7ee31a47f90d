"""Ingest load benchmark: durable single events and bulk batches over HTTP.

For each engine (SQLite file, PostgreSQL), against ONE server process pinned to core 0 with
the load generator (wrk) pinned to core 1:

1. a bare ASGI endpoint (bench/bare_app.py) answering the same single-event request: the ceiling;
2. ``POST /v1/events`` (one event per request, durable: committed before the 202);
3. ``POST /v1/events/batch`` (100 events per request);
4. ``POST /v1/batch``, the tracking spec's batch (100 messages per request, the same events),
   beside the native batch in the same server process;
5. a raw batched insert of the same rows into the same database, without HTTP or identity.

"Sustained" means acknowledged AND processed: the server runs its in-process worker, every
event is resolved to a contact before its answer, and the benchmark reports the processing
backlog left when the load stops and how long it takes to drain.

    python -m bench.ingest                      # both engines, 10 s per phase
    python -m bench.ingest --engine sqlite --duration 5

PostgreSQL: the server named by CARTWHEEL_BENCH_POSTGRES_URL (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres), else a throwaway cluster (needs initdb).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from cartwheel.db import Database
from cartwheel.migrate import migrate
from cartwheel.models import Event, PendingEvent
from cartwheel.models.base import utcnow, uuid7
from cartwheel.stores import service as stores

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "wrk_events.lua"
PYTHON = sys.executable


@dataclass
class Run:
    label: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    events_per_request: int = 1

    @property
    def events_per_second(self) -> float:
        return self.requests_per_second * self.events_per_request


def free_port() -> int:
    for port in range(21000, 32000, 13):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


@contextlib.contextmanager
def server(app: str, env: dict[str, str], factory: bool = False) -> Iterator[int]:
    port = free_port()
    command = [
        "taskset",
        "-c",
        "0",
        PYTHON,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    try:
        wait_for_port(port)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def wrk(port: int, duration: int, connections: int, env: dict[str, str], path: str) -> Run:
    output = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}{path}",
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(g) for g in match.groups())
    return Run("", rps, _percentile(output, "50%"), _percentile(output, "99%"), errors)


def _percentile(output: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", output)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def backlog(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(PendingEvent)) or 0)


def count_events(db: Database, store_id: int) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).where(Event.store_id == store_id)) or 0)


def warm_up(port: int, authorization: str) -> None:
    """One request through the FastAPI router before a timed run: its first request sets up
    every route's state (the native endpoints' fast lane never goes through it)."""
    body = b'{"batch": [{"type": "track", "userId": "warm-up", "event": "Warm up"}]}'
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/batch",
        data=body,
        headers={"Authorization": authorization, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200


def drain(db: Database, limit: float = 300) -> float:
    """Seconds until the worker has processed every event (at most ``limit``)."""
    started = time.perf_counter()
    while backlog(db) > 0 and time.perf_counter() - started < limit:
        time.sleep(0.5)
    return time.perf_counter() - started


def raw_insert_rate(db: Database, store_id: int, rows: int = 20_000, batch: int = 100) -> float:
    """Rows/s for plain executemany inserts of event rows, one commit per ``batch``."""
    now = utcnow()
    template = {
        "store_id": store_id,
        "contact_id": None,
        "name": "Viewed Product",
        "category": None,
        "action": None,
        "occurred_at": now,
        "received_at": now,
        "source": None,
        "properties": {"sku": "TSH-1", "price": 29.99},
        "property_types": {},
        "extra": {},
        "entity": None,
        "value": None,
        "currency": None,
        "dedup_key": None,
        "silent": True,
        "attempts": 0,
    }
    started = time.perf_counter()
    for _ in range(rows // batch):
        with db.engine.begin() as conn:
            conn.execute(insert(Event), [{**template, "id": uuid7()} for _ in range(batch)])
    return rows / (time.perf_counter() - started)


@contextlib.contextmanager
def database(engine: str) -> Iterator[str]:
    if engine == "sqlite":
        workdir = tempfile.mkdtemp(prefix="cartwheel-bench-")
        try:
            yield f"sqlite:///{workdir}/bench.db"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    sys.path.insert(0, str(ROOT))
    from tests.pg_server import postgres_database

    admin = os.environ.get("CARTWHEEL_BENCH_POSTGRES_URL")
    if admin:
        os.environ["CARTWHEEL_TEST_POSTGRES_URL"] = admin
    with postgres_database() as url:
        yield url


def bench_engine(
    engine: str, duration: int, connections: int, bulk_connections: int, batch: int
) -> list[str]:
    lines = []
    with database(engine) as url:
        db = Database(url)
        migrate(db.engine)
        with db.transaction() as session:
            created = stores.create_store(session, f"bench {uuid.uuid4().hex[:6]}")
            stores.set_rate_limit(session, created.store_id, 1e9)
        env = {
            "CARTWHEEL_DATABASE_URL": url,
            "CARTWHEEL_RATE_LIMIT_PER_SECOND": "1000000000",
            "CW_KEY": created.api_key,
            "CW_WRITE_AUTH": "Basic " + base64.b64encode(f"{created.write_key}:".encode()).decode(),
            # A key of the run's own: no key file left in the working directory.
            "CARTWHEEL_SECRET_KEYS": Fernet.generate_key().decode(),
        }
        with server("bench.bare_app:app", {}) as port:
            bare = wrk(port, duration, connections, {"BATCH": "1"}, "/v1/events")
        bare.label = "bare ASGI endpoint"

        with server("cartwheel.app:create_app", env, factory=True) as port:
            single = wrk(port, duration, connections, {**env, "BATCH": "1"}, "/v1/events")
            single.label = "POST /v1/events (1 event)"
            left_single = backlog(db)
            bulk = wrk(
                port, duration, bulk_connections, {**env, "BATCH": str(batch)}, "/v1/events/batch"
            )
            bulk.label = f"POST /v1/events/batch ({batch} events)"
            bulk.events_per_request = batch
            left_bulk = backlog(db)
            drain_seconds = drain(db)
            warm_up(port, env["CW_WRITE_AUTH"])
            tracking = wrk(
                port,
                duration,
                bulk_connections,
                {**env, "BATCH": str(batch), "FORMAT": "segment"},
                "/v1/batch",
            )
            tracking.label = f"POST /v1/batch, tracking spec ({batch} messages)"
            tracking.events_per_request = batch
            left_tracking = backlog(db)
            tracking_drain_seconds = drain(db)
        stored = count_events(db, created.store_id)
        raw = raw_insert_rate(db, created.store_id, batch=batch)
        db.dispose()

    lines.append(f"### {engine}\n")
    lines.append("| run | req/s | events/s | p50 ms | p99 ms | errors | × bare |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for run in (bare, single, bulk, tracking):
        ratio = run.requests_per_second / bare.requests_per_second
        lines.append(
            f"| {run.label} | {run.requests_per_second:,.0f} | {run.events_per_second:,.0f} | "
            f"{run.p50_ms:.2f} | {run.p99_ms:.2f} | {run.errors} | {ratio:.2f} |"
        )
    lines.append("")
    lines.append(f"- events stored: {stored:,}")
    lines.append(f"- processing backlog when the single-event load stopped: {left_single:,}")
    lines.append(
        f"- processing backlog when the bulk load stopped: {left_bulk:,}; "
        f"drained in {drain_seconds:.1f} s"
    )
    lines.append(
        f"- raw batched insert ({batch} rows per commit, no HTTP, no identity): {raw:,.0f} rows/s"
    )
    lines.append(f"- bulk ingest / raw insert: {bulk.events_per_second / raw:.2f}")
    lines.append(
        f"- processing backlog when the tracking-spec load stopped: {left_tracking:,}; "
        f"drained in {tracking_drain_seconds:.1f} s"
    )
    lines.append(
        "- tracking-spec batch / native batch (events/s): "
        f"{tracking.events_per_second / bulk.events_per_second:.2f}"
    )
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--duration", type=int, default=10, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=64, help="for single events")
    parser.add_argument("--bulk-connections", type=int, default=16, help="for batches")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("taskset"):
        sys.exit("the benchmark needs wrk and taskset (Debian: apt-get install wrk util-linux)")
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    report = [
        f"Ingest benchmark: {args.duration}s per phase, {args.connections} connections "
        f"(single events) / {args.bulk_connections} (batches), "
        f"server on core 0, wrk on core 1, python {sys.version.split()[0]}",
        "",
    ]
    for engine in engines:
        report += bench_engine(
            engine, args.duration, args.connections, args.bulk_connections, args.batch
        )
    print("\n".join(report))


if __name__ == "__main__":
    main()
