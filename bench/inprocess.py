"""In-process ingest cost: the native batch and single-event endpoints driven through
``httpx.ASGITransport`` (no HTTP server, no wrk), then one worker drain, on a fresh SQLite
file. It isolates the application's own cost from the server stack, and, because it only
uses the public API, the same file runs against an older tree for a before/after figure:

    python -m bench.inprocess
    PYTHONPATH=/path/to/old/checkout/src python -m bench.inprocess   # an older tree
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from typing import Any

import httpx

from cartwheel.app import build_runtime, create_app
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.migrate import migrate
from cartwheel.stores import service as stores

#: A fixed key, so an older tree without secrets at rest and a newer one run alike.
_SECRET_KEY = "hN2U5mJQ0y2y3dY7QbC8xqzG6y0Qn3mB2m4r9v1bE0s="


def _settings(url: str) -> Settings:
    options: dict[str, Any] = {
        "database_url": url,
        "rate_limit_per_second": 1e9,
        "run_worker_in_process": False,
    }
    if "secret_keys" in Settings.model_fields:
        options["secret_keys"] = _SECRET_KEY
    return Settings(**options)


async def _drive(
    app: Any, headers: dict[str, str], batches: int, singles: int
) -> tuple[float, float]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        started = time.perf_counter()
        for batch in range(batches):
            events = [
                {
                    "name": "Viewed Product",
                    "contact": {"email": f"p{batch * 100 + i}@bench.example"},
                    "properties": {"sku": "TSH-1", "price": 3},
                }
                for i in range(100)
            ]
            response = await client.post(
                "/v1/events/batch", json={"events": events}, headers=headers
            )
            assert response.status_code < 300, response.text
        bulk = time.perf_counter() - started

        async def one(i: int) -> None:
            body = {"name": "Viewed Product", "contact": {"email": f"s{i}@bench.example"}}
            response = await client.post("/v1/events", json=body, headers=headers)
            assert response.status_code == 202, response.text

        started = time.perf_counter()
        for wave in range(singles // 50):
            await asyncio.gather(*(one(wave * 50 + i) for i in range(50)))
        single = time.perf_counter() - started
    return bulk, single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=60, help="batches of 100 new people")
    parser.add_argument("--singles", type=int, default=2000, help="single events, 50 at a time")
    args = parser.parse_args()

    url = f"sqlite:///{tempfile.mkdtemp(prefix='cartwheel-bench-')}/bench.db"
    db = Database(url)
    migrate(db.engine)
    runtime = build_runtime(_settings(url), db)
    runtime.writer.start()
    with db.transaction() as session:
        created = stores.create_store(session, "bench", ["https://shop.example"])
    app = create_app(runtime=runtime, run_worker=False)
    app.state.runtime = runtime  # ASGITransport runs no lifespan
    headers = {"Authorization": f"Bearer {created.api_key}"}
    try:
        bulk, single = asyncio.run(_drive(app, headers, args.batches, args.singles))
        started = time.perf_counter()
        runtime.worker.drain()
        drain = time.perf_counter() - started
    finally:
        runtime.writer.stop()
    events = args.batches * 100 + args.singles // 50 * 50
    print(
        f"bulk {args.batches * 100 / bulk:,.0f} events/s · "
        f"single {args.singles // 50 * 50 / single:,.0f} req/s · "
        f"worker drain {events / drain:,.0f} events/s"
    )


if __name__ == "__main__":
    main()
