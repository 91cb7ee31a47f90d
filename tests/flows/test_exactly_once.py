"""Exactly once under a killed worker: worker processes are killed (SIGKILL, no shutdown)
in the middle of advancing runs through two send steps and a webhook step; another worker
finishes the work, and the loopback SMTP server received exactly one message per run and
send step (one ``sent`` row each), the loopback webhook receiver one ``webhook-id`` per
run, on both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import FlowRunStep
from cartwheel.runtime import Runtime
from cartwheel.webhooks.delivery import DeliveryTask
from cartwheel.worker.runner import Worker
from tests.conftest import TEST_SECRET_KEY, StoreFixture
from tests.flows.helpers import Channel, Clock, publish, runs, template, track
from tests.webhooks.conftest import Receiver, receiver  # noqa: F401  (the fixture)

RUNS = 60
#: A worker process on a fixed clock, advancing flows in small transactions until killed.
WORKER = """
import sys
from datetime import datetime
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.worker.runner import Worker

now = datetime.fromisoformat(sys.argv[1])
settings = Settings()
worker = Worker(Database(settings.database_url), settings, clock=lambda: now)
while True:
    worker.run_once()
"""


def steps_done(db: Database, flow_id: int, step: str) -> int:
    with db.read() as session:
        count: int = session.execute(
            select(func.count()).where(
                FlowRunStep.flow_id == flow_id,
                FlowRunStep.step == step,
                FlowRunStep.status == "done",
            )
        ).scalar_one()
    return count


def kill_midway(db: Database, flow_id: int, step: str, at: datetime) -> int:
    """Start a worker process at ``at`` and SIGKILL it once some, not all, runs did
    ``step``; returns how many had when it died."""
    env = {
        **os.environ,
        "CARTWHEEL_DATABASE_URL": db.url,
        "CARTWHEEL_SECRET_KEYS": TEST_SECRET_KEY,
        "CARTWHEEL_FLOWS_BATCH_SIZE": "3",
        "CARTWHEEL_RUN_WORKER_IN_PROCESS": "false",
        # A whole worker, as in production: it delivers webhooks to the loopback receiver.
        "CARTWHEEL_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, at.isoformat()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and steps_done(db, flow_id, step) < RUNS // 3:
            time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    return steps_done(db, flow_id, step)


def test_a_killed_worker_sends_nothing_twice_and_loses_nothing(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    settings: Settings,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    receiver: Receiver,  # noqa: F811
) -> None:
    first = template(client, store, "First", topic="transactional")
    second = template(client, store, "Second", topic="transactional")
    hook = client.post(
        "/v1/webhooks",
        json={"target": receiver.url, "events": ["order_created"]},
        headers=store.headers,
    ).json()
    flow = publish(
        client,
        store,
        {
            "name": "Two sends",
            "trigger": {"event": "Joined"},
            "start": "w1",
            "steps": {
                "w1": {"type": "wait", "for": {"hours": 1}, "next": "a"},
                "a": {"type": "send_email", "template": first, "next": "w2"},
                "w2": {"type": "wait", "for": {"hours": 1}, "next": "b"},
                "b": {"type": "send_email", "template": second, "next": "w3"},
                "w3": {"type": "wait", "for": {"hours": 1}, "next": "c"},
                "c": {"type": "send_webhook", "webhook": hook["id"], "next": "end"},
                "end": {"type": "exit"},
            },
        },
    )
    emails = [f"k{i}@once.io" for i in range(RUNS)]
    for email in emails:
        track(runtime, store.store_id, email, "Joined", at=clock.now)
    flow_worker.drain()
    assert len(runs(db, flow)) == RUNS

    # Killed while sending the first message of each run, then while sending the second.
    at_first = kill_midway(db, flow, "a", clock.now + timedelta(hours=1, minutes=1))
    clock.advance(hours=1, minutes=1)
    flow_worker.drain()  # another worker finishes what the dead one left
    assert steps_done(db, flow, "a") == RUNS
    at_second = kill_midway(db, flow, "b", clock.now + timedelta(hours=1, minutes=1))
    clock.advance(hours=1, minutes=1)
    flow_worker.drain()
    at_third = kill_midway(db, flow, "c", clock.now + timedelta(hours=1, minutes=1))
    clock.advance(hours=1, minutes=1)
    flow_worker.drain()
    assert all(0 < n < RUNS for n in (at_first, at_second, at_third)), (
        at_first,
        at_second,
        at_third,
    )
    assert {r.state for r in runs(db, flow)} == {"done"}

    channel.deliver()
    received = [r for r in channel.smtp.received if r.rcpt_tos[0] in emails]
    per_contact: dict[str, list[str]] = {}
    for mail in received:
        per_contact.setdefault(mail.rcpt_tos[0], []).append(str(mail.message["Subject"]))
    assert len(received) == 2 * RUNS
    assert all(sorted(s) == ["First", "Second"] for s in per_contact.values())
    assert set(per_contact) == set(emails)
    # One message row per run and step, each sent once.
    rows = channel.rows()
    assert len(rows) == 2 * RUNS and {r.status for r in rows} == {"sent"}
    assert len({r.idempotency_key for r in rows}) == 2 * RUNS

    task = DeliveryTask(settings, clock=clock)
    try:
        for _ in range(500):
            if not task(db) and len(receiver.delivered) >= RUNS:
                break
    finally:
        task.close()
    # A webhook is at least once over HTTP (a worker killed between the receiver's answer
    # and its record sends it again), so its id is the per-run-and-step idempotency key:
    # one id per run, and every repeat of an id is the same body.
    by_id: dict[str, set[bytes]] = {}
    for delivery in receiver.delivered:
        by_id.setdefault(delivery.message_id, set()).add(delivery.body)
    assert len(by_id) == RUNS and all(len(bodies) == 1 for bodies in by_id.values())
    run_ids = sorted(json.loads(next(iter(b)))["runId"] for b in by_id.values())
    assert run_ids == sorted(r.id for r in runs(db, flow))
