"""A 2xx means committed: a server killed (SIGKILL, no shutdown of any kind) while requests
are in flight has stored every event it acknowledged, exactly once, on both engines; and
clients that retry everything with the same dedup keys store nothing twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.models import Event
from tests.conftest import TEST_SECRET_KEY, StoreFixture

SENDERS = 16
#: The server is killed once this many requests were acknowledged; the senders keep going
#: until then, so about SENDERS requests are in flight at the moment of the kill.
KILL_AFTER = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60  # a loaded CI machine starts slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


@contextmanager
def server(db: Database) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    env = {
        **os.environ,
        "CARTWHEEL_DATABASE_URL": db.url,
        "CARTWHEEL_RATE_LIMIT_PER_SECOND": "1e9",
        "CARTWHEEL_SECRET_KEYS": TEST_SECRET_KEY,  # never a key file in the working directory
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cartwheel", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        yield process, port
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def event_body(run: str, i: int) -> dict[str, object]:
    return {
        "name": f"crash-{run}",
        "contact": {"email": f"c{i}@example.com"},
        "dedupKey": f"{run}-{i}",
    }


def stored_per_key(db: Database, run: str) -> dict[str, int]:
    with db.read() as session:
        rows = session.execute(
            select(Event.dedup_key, func.count())
            .where(Event.name == f"crash-{run}")
            .group_by(Event.dedup_key)
        ).all()
    return {key: count for key, count in rows}


def test_a_server_killed_mid_load_keeps_every_acknowledged_event_once(
    db: Database, store: StoreFixture
) -> None:
    run = uuid.uuid4().hex[:8]
    acknowledged: set[int] = set()
    failed: set[int] = set()
    lock = threading.Lock()
    enough = threading.Event()
    sequence = iter(range(1_000_000))

    with server(db) as (process, port):
        url = f"http://127.0.0.1:{port}/v1/events"

        def sender() -> None:
            with httpx.Client(timeout=30, headers=store.headers) as client:
                while True:
                    with lock:
                        i = next(sequence)
                    try:
                        response = client.post(url, json=event_body(run, i))
                    except httpx.TransportError:
                        with lock:
                            failed.add(i)
                        return  # the server is gone
                    with lock:
                        if response.status_code == 202:
                            acknowledged.add(i)
                        else:
                            failed.add(i)
                        if len(acknowledged) >= KILL_AFTER:
                            enough.set()

        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            for _ in range(SENDERS):
                pool.submit(sender)
            acked_in_time = enough.wait(timeout=120)
            process.send_signal(signal.SIGKILL)  # while the senders are still sending
            assert acked_in_time, ("too few acknowledged", len(acknowledged), len(failed))

    # Requests cut off by the kill got no answer: at least one was in flight.
    assert failed, "the kill came after every answer: nothing was in flight"
    assert len(acknowledged) >= KILL_AFTER, (len(acknowledged), len(failed))
    stored = stored_per_key(db, run)
    assert all(stored.get(f"{run}-{i}") == 1 for i in acknowledged)
    assert all(count == 1 for count in stored.values())

    # The clients retry everything they sent, acknowledged or not, with the same dedup keys.
    with server(db) as (_process, port), httpx.Client(timeout=30, headers=store.headers) as client:
        for i in sorted(acknowledged | failed):
            response = client.post(f"http://127.0.0.1:{port}/v1/events", json=event_body(run, i))
            assert response.status_code == 202, response.text
            if i in acknowledged:  # an unanswered one may or may not have been committed
                assert response.json()["duplicate"] is True

    after = stored_per_key(db, run)
    assert set(after) == {f"{run}-{i}" for i in acknowledged | failed}
    assert all(count == 1 for count in after.values())
