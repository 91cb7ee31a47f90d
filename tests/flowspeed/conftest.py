"""Fixtures of the flow re-entry and batch tests: a clock the test moves, a worker on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.worker.runner import Worker


@dataclass
class Clock:
    """Now, as the test says (a whole hour in the future of the real clock)."""

    now: datetime = field(
        default_factory=lambda: (
            datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        )
    )

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> datetime:
        self.now += timedelta(**span)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flow_worker(db: Database, settings: Settings, clock: Clock) -> Worker:
    """A worker whose clock is the test's (flows, timers and the queue read it)."""
    return Worker(db, settings, clock=clock)
