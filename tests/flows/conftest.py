"""Flow fixtures: a movable clock, a worker on it, and the store's real messages channel
with a loopback SMTP server and SMS provider behind it."""

from __future__ import annotations

import pytest

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Channel, Clock, channel_settings
from tests.messages.conftest import SmtpServer, smtp_server  # noqa: F401  (the fixture)
from tests.messages.test_sms import Twilio, twilio  # noqa: F401  (the fixture)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flow_worker(db: Database, settings: Settings, clock: Clock) -> Worker:
    """A worker whose clock is the test's (flows, timers and the queue read it)."""
    return Worker(db, settings, clock=clock)


@pytest.fixture
def channel(
    db: Database,
    settings: Settings,
    store: StoreFixture,
    smtp_server: SmtpServer,  # noqa: F811
    twilio: Twilio,  # noqa: F811
) -> Channel:
    """The store's messages channel: what its flows queued, and what was delivered."""
    return Channel(
        db, store.store_id, channel_settings(settings, smtp_server, twilio), smtp_server, twilio
    )
