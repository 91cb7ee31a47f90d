"""The tracking spec's batch against the native batch, in process: the same events (one new
person each) sent 100 per request through ``httpx.ASGITransport`` to ``POST /v1/batch``
(as a server library sends them: a ``messageId``, a ``timestamp``, ``context.library``, the
batch's ``sentAt``) and to ``POST /v1/events/batch``, in alternating rounds on fresh SQLite
files. It reports events/s and the process's CPU time per event (the writer thread's
included), which a machine shared with other work disturbs far less than wall time.

    python -m bench.tracking                 # 3 rounds of 40 batches each
    python -m bench.tracking --rounds 5 --batches 60
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import tempfile
import time
from typing import Any

import httpx

from cartwheel.app import build_runtime, create_app
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.migrate import migrate
from cartwheel.stores import service as stores

_SECRET_KEY = "hN2U5mJQ0y2y3dY7QbC8xqzG6y0Qn3mB2m4r9v1bE0s="
_PROPERTIES = {"sku": "TSH-1", "price": 29.99, "viewedAt": "2026-04-02T12:00:00Z"}


def _native(batch: int) -> tuple[str, dict[str, Any]]:
    events = [
        {
            "name": "Viewed Product",
            "contact": {"email": f"person{batch * 100 + i}@bench.example"},
            "properties": _PROPERTIES,
        }
        for i in range(100)
    ]
    return "/v1/events/batch", {"events": events}


def _tracking(batch: int) -> tuple[str, dict[str, Any]]:
    messages = [
        {
            "type": "track",
            "userId": f"person{batch * 100 + i}",
            "event": "Viewed Product",
            "messageId": f"m-{batch}-{i}",
            "properties": _PROPERTIES,
            "context": {"library": {"name": "analytics-python", "version": "2.3.0"}},
            "timestamp": "2026-04-02T12:00:00Z",
        }
        for i in range(100)
    ]
    return "/v1/batch", {"batch": messages, "sentAt": "2026-04-02T12:00:01Z"}


async def _run(kind: str, batches: int) -> tuple[float, float]:
    url = f"sqlite:///{tempfile.mkdtemp(prefix='cartwheel-bench-')}/bench.db"
    settings = Settings(
        database_url=url,
        rate_limit_per_second=1e9,
        run_worker_in_process=False,
        secret_keys=_SECRET_KEY,
    )
    db = Database(url)
    migrate(db.engine)
    with db.transaction() as session:
        created = stores.create_store(session, "bench")
    runtime = build_runtime(settings, db)
    app = create_app(runtime=runtime, run_worker=False)
    app.state.runtime = runtime  # ASGITransport runs no lifespan
    runtime.writer.start()
    write = base64.b64encode(f"{created.write_key}:".encode()).decode()
    headers = (
        {"Authorization": f"Basic {write}"}
        if kind == "tracking"
        else {"Authorization": f"Bearer {created.api_key}"}
    )
    make = _tracking if kind == "tracking" else _native
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            # The first request through the FastAPI router sets every route up (the native
            # endpoints' fast lane never goes through it): not part of the measure.
            path, body = make(10**6)
            assert (await client.post(path, json=body, headers=headers)).status_code < 300
            bodies = [make(batch) for batch in range(batches)]
            started, cpu = time.perf_counter(), time.process_time()
            for path, body in bodies:
                response = await client.post(path, json=body, headers=headers)
                assert response.status_code < 300, response.text
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        runtime.writer.stop()
        db.dispose()
    events = batches * 100
    return events / elapsed, cpu / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=40, help="batches of 100 per run")
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"native": [], "tracking": []}
    for _ in range(args.rounds):
        for kind in results:
            results[kind].append(asyncio.run(_run(kind, args.batches)))
    print("| run | events/s (median, range) | CPU µs per event (median, range) |")
    print("|---|---:|---:|")
    for kind, runs in results.items():
        rates, cpus = [r for r, _ in runs], [c for _, c in runs]
        print(
            f"| {kind} | {statistics.median(rates):,.0f} ({min(rates):,.0f}–{max(rates):,.0f}) "
            f"| {statistics.median(cpus):.0f} ({min(cpus):.0f}–{max(cpus):.0f}) |"
        )
    native = statistics.median(c for _, c in results["native"])
    tracking = statistics.median(c for _, c in results["tracking"])
    print(f"\ntracking ÷ native, CPU per event: {tracking / native:.2f}")


if __name__ == "__main__":
    main()
