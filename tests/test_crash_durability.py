"""A 2xx means committed: events acknowledged by a server that is then killed (SIGKILL, no
shutdown of any kind) are all in the database afterwards, on both engines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import Event
from tests.conftest import StoreFixture


def free_port() -> int:
    for port in range(23000, 32000, 11):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def test_acknowledged_events_survive_a_killed_server(db: Database, store: StoreFixture) -> None:
    port = free_port()
    env = {**os.environ, "CARTWHEEL_DATABASE_URL": db.url, "CARTWHEEL_RATE_LIMIT_PER_SECOND": "1e9"}
    server = subprocess.Popen(
        [sys.executable, "-m", "cartwheel", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        run = uuid.uuid4().hex[:8]

        def send(i: int) -> str:
            response = httpx.post(
                f"http://127.0.0.1:{port}/v1/events",
                json={"name": f"crash-{run}", "contact": {"email": f"c{i}@example.com"}},
                headers=store.headers,
                timeout=30,
            )
            assert response.status_code == 202, response.text
            return str(response.json()["id"])

        with ThreadPoolExecutor(max_workers=16) as pool:
            acknowledged = list(pool.map(send, range(200)))
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)

    with db.read() as session:
        stored = {
            str(event_id)
            for event_id in session.scalars(select(Event.id).where(Event.name == f"crash-{run}"))
        }
    assert set(acknowledged) <= stored
    assert len(acknowledged) == 200
