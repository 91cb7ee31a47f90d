"""Flow fixtures: a movable clock, a worker on it, the recording messages channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.flows import sending
from cartwheel.worker.runner import Worker
from tests.flows.helpers import Clock, RecordingSender
from tests.messages.conftest import smtp_server  # noqa: F401  (the loopback SMTP server)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flow_worker(db: Database, settings: Settings, clock: Clock) -> Worker:
    """A worker whose clock is the test's (flows, timers and the queue read it)."""
    return Worker(db, settings, clock=clock)


@pytest.fixture
def channel() -> Iterator[RecordingSender]:
    recorder = RecordingSender({3: "email", 4: "sms"})
    previous = sending.use(recorder)
    yield recorder
    sending.use(previous)
