"""A real HTTP server on loopback serving the app (the session's runtime, so both engines),
for the tracking spec's real libraries to send to; and reading back what they sent."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from cartwheel.app import create_app
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture, json_of


@pytest.fixture(scope="session")
def server_url(runtime: Runtime) -> Iterator[str]:
    """``http://127.0.0.1:<port>``: uvicorn in a thread on a port the OS chose, without a
    lifespan (the session's runtime and its writer are already running)."""
    app = create_app(runtime=runtime, run_worker=False)
    app.state.runtime = runtime
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the loopback server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def events(client: TestClient, store: StoreFixture, **filters: Any) -> list[dict[str, Any]]:
    """Every event of ``store`` through the native API (the event log), oldest first."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 250, **filters}
    while True:
        page = json_of(client.get("/v1/events", params=params, headers=store.headers))
        items.extend(page["items"])
        if not page["nextCursor"]:
            return list(reversed(items))
        params["cursor"] = page["nextCursor"]


def by_name(client: TestClient, store: StoreFixture, name: str) -> list[dict[str, Any]]:
    return events(client, store, name=name)


def contact(client: TestClient, store: StoreFixture, contact_id: int) -> dict[str, Any]:
    response = client.get(f"/v1/contacts/{contact_id}", headers=store.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def contact_by_email(client: TestClient, store: StoreFixture, email: str) -> dict[str, Any]:
    response = client.get("/v1/contacts", params={"email": email}, headers=store.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())
