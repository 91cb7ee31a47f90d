"""The worker loop: ``cartwheel worker`` runs it in the foreground; ``cartwheel serve`` runs
one in a background thread so the embedded setup needs nothing else."""

from __future__ import annotations

import logging
import threading
import time

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models.base import utcnow
from cartwheel.worker import registry
from cartwheel.worker.queue import Clock, RetryPolicy, process_events, process_outbox

log = logging.getLogger(__name__)

#: How often the running loop looks for due retries. Backoff is counted in seconds, so a
#: retry starts at most this late; looking on every pass cost the busy loop a query per
#: queue per pass (measured: ~8% more CPU per ingested event under bulk load).
RETRY_CHECK_SECONDS = 1.0


class Worker:
    def __init__(self, db: Database, settings: Settings, *, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock  # injectable, so tests move time instead of sleeping through backoff
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._event_processors = registry.event_processors(clock)
        self._outbox_consumers = registry.outbox_consumers(clock)
        self._tasks = registry.periodic_tasks(settings, clock)
        self._policy = RetryPolicy.from_settings(settings)
        self._next_retry_check = 0.0

    def wake(self) -> None:
        """New work was committed: skip the rest of the idle wait."""
        self._wake.set()

    def run_once(self, *, retries: bool = True) -> int:
        """One pass over every queue (and, with ``retries``, the failures due for another
        try); returns the number of items handled."""
        limit, policy, clock = self.settings.worker_batch_size, self._policy, self.clock
        # The outbox's consumers are every pass's readers: a message none of them would act
        # on is not written (queue.taken).
        readers = self._outbox_consumers
        done = process_events(
            self.db,
            self._event_processors,
            limit,
            policy=policy,
            clock=clock,
            retries=retries,
            readers=readers,
        )
        done += process_outbox(
            self.db,
            self._outbox_consumers,
            limit,
            policy=policy,
            clock=clock,
            retries=retries,
            readers=readers,
        )
        for task in self._tasks:
            done += task(self.db)
        return done

    def drain(self, max_passes: int = 1000) -> None:
        """Run passes until every queue is idle (tests and the benchmark use this)."""
        for _ in range(max_passes):
            if self.run_once() == 0:
                return

    def run_forever(self) -> None:
        while not self._stop.is_set():
            retries = time.monotonic() >= self._next_retry_check
            if retries:
                self._next_retry_check = time.monotonic() + RETRY_CHECK_SECONDS
            try:
                handled = self.run_once(retries=retries)
            except Exception:
                log.exception("worker pass failed")
                handled = 0
            if handled >= self.settings.worker_batch_size:
                continue  # a backlog: keep going
            # Idle or a partial batch: wait for the poll interval (or a wake-up when idle),
            # so that under load each pass claims a large batch instead of many small ones.
            if handled == 0:
                self._wake.wait(self.settings.worker_poll_seconds)
                self._wake.clear()
            else:
                self._stop.wait(self.settings.worker_poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
