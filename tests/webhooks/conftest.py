"""Webhook test helpers: a real HTTP receiver on 127.0.0.1, a clock tests move by hand,
and shortcuts to queue outbox messages and run the delivery task."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel import outbox
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models.base import utcnow
from cartwheel.webhooks.delivery import DeliveryTask
from tests.conftest import StoreFixture, json_of


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


#: (request number for this receiver, starting at 1) -> (status, headers, body)
Responder = Callable[[int], tuple[int, dict[str, str], bytes]]


def ok(_n: int) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, b"ok"


def failing(times: int, status: int = 500) -> Responder:
    """Answer ``status`` to the first ``times`` requests, then 200."""
    return lambda n: (status, {}, b"down") if n <= times else (200, {}, b"ok")


@dataclass
class Receiver:
    """A threaded HTTP server. Only requests under its own random path count: anything else
    (a delivery of an earlier test whose receiver had the same port) answers 410 Gone."""

    respond: Responder = ok
    requests: list[Received] = field(default_factory=list)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{self.token}"

    @property
    def delivered(self) -> list[Received]:
        """Requests answered with a 2xx."""
        return [r for r in self.requests if 200 <= r.status < 300]

    def handle(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if not path.startswith(f"/hook/{self.token}"):
            return 410, {}, b""
        with self.lock:
            reply = self.respond(len(self.requests) + 1)
            self.requests.append(Received(path, headers, body, reply[0]))
        return reply


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve(Receiver()) as running:
        yield running


class serve:
    """Run a :class:`Receiver` on 127.0.0.1 (port 0) for the ``with`` block."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        target = receiver

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, reply = target.handle(self.path, headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                try:
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender stopped waiting (a test of its timeout): no one to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        receiver.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self.receiver

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class Clock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def catch_up(self) -> None:
        """Move to the real time if it is later: what the API queues (a replay) is due
        at the server's clock, which went on while this one stood still."""
        self.now = max(self.now, utcnow())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def task(settings: Settings, clock: Clock) -> Iterator[DeliveryTask]:
    """The delivery task with the test settings (private targets allowed) and ``clock``."""
    delivery_task = DeliveryTask(settings, clock=clock)
    yield delivery_task
    delivery_task.close()


def run(task: DeliveryTask, db: Database, passes: int = 400) -> int:
    """Run the delivery task until it has nothing due; returns the attempts made."""
    total = 0
    for _ in range(passes):
        done = task(db)
        if done == 0:
            return total
        total += done
    return total


def emit(db: Database, store_id: int, topic: str, payload: dict[str, Any]) -> None:
    with db.transaction() as session:
        outbox.emit(session, store_id, topic, payload)


def create_webhook(
    client: TestClient, store: StoreFixture, target: str, events: list[str], **fields: Any
) -> dict[str, Any]:
    response = client.post(
        "/v1/webhooks", json={"target": target, "events": events, **fields}, headers=store.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = json_of(response)
    return created


def deliveries(client: TestClient, store: StoreFixture, webhook_id: str, **params: Any) -> Any:
    response = client.get(
        f"/v1/webhooks/{webhook_id}/deliveries", params=params, headers=store.headers
    )
    assert response.status_code == 200, response.text
    return response.json()
