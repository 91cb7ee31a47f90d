"""The worker: ``cartwheel worker`` runs it in the foreground; ``cartwheel serve`` runs one
loop in a background thread so the embedded setup needs nothing else.

A worker runs one or more loops (``CARTWHEEL_WORKER_CONCURRENCY``), each a thread making
passes of its own over every queue and periodic task, with its own handlers and tasks, as a
worker process of its own would; one loop's Python runs while another waits for the
database (psycopg releases the interpreter lock while it waits). Each loop claims its share
of the event log, the events of the contacts whose id is its number modulo the number of
loops (``queue.Share``), so one person's events are handled in log order by one loop; the
outbox, retries and periodic tasks are claimed by every loop as by several processes
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL). On SQLite the passes take the worker lease and
the file's one write lock in turn, so a second loop gains nothing (the default there is
one).

Stopping lets every loop finish the pass it is in (its transaction commits or rolls back
whole); a killed process leaves its claimed rows pending, and the next pass replays them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models.base import utcnow
from cartwheel.worker import registry
from cartwheel.worker.queue import Clock, RetryPolicy, Share, process_events, process_outbox

log = logging.getLogger(__name__)

#: How often the running loop looks for due retries. Backoff is counted in seconds, so a
#: retry starts at most this late; looking on every pass cost the busy loop a query per
#: queue per pass (measured: ~8% more CPU per ingested event under bulk load).
RETRY_CHECK_SECONDS = 1.0
#: Loops per worker unless ``CARTWHEEL_WORKER_CONCURRENCY`` says otherwise, by engine: on
#: PostgreSQL two (one computes while the other waits for the database: flows' backlog
#: drains about twice as fast), on SQLite one (passes take the one write lock in turn). Two
#: passes over one person take turns on flows' per-contact locks
#: (flows/engine.hold_contacts). docs/performance.md, "Flows": "Several passes at once".
DEFAULT_CONCURRENCY = {"postgresql": 2, "sqlite": 1}
#: How long :meth:`Worker.stop` waits for each loop to finish its pass.
STOP_TIMEOUT_SECONDS = 60.0


def concurrency(settings: Settings, db: Database) -> int:
    """How many loops a ``cartwheel worker`` runs: the setting, else the engine's default."""
    if settings.worker_concurrency is not None:
        return settings.worker_concurrency
    return DEFAULT_CONCURRENCY.get(db.engine.dialect.name, 1)


class _Loop:
    """One loop's handlers and periodic tasks (they keep state between passes, such as
    when the flows' date triggers are next due) and its wake-up signal."""

    def __init__(self, settings: Settings, clock: Clock, share: Share | None) -> None:
        self.share = share
        self.event_processors = registry.event_processors(clock)
        self.outbox_consumers = registry.outbox_consumers(clock)
        self.tasks: list[Callable[[Database], int]] = registry.periodic_tasks(settings, clock)
        self.wake = threading.Event()
        self.next_retry_check = 0.0


class Worker:
    """``concurrency`` loops over every queue (one unless asked: ``cartwheel serve``'s
    in-process worker, the tests); :meth:`run_once` and :meth:`drain` make the first
    loop's passes over the whole of every queue."""

    def __init__(
        self, db: Database, settings: Settings, *, clock: Clock = utcnow, concurrency: int = 1
    ) -> None:
        if concurrency < 1:
            raise ValueError("a worker runs at least one loop")
        self.db = db
        self.clock = clock  # injectable, so tests move time instead of sleeping through backoff
        self.settings = settings
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loops = [
            _Loop(settings, clock, Share(n, concurrency) if concurrency > 1 else None)
            for n in range(concurrency)
        ]
        self._policy = RetryPolicy.from_settings(settings)

    @property
    def concurrency(self) -> int:
        return len(self._loops)

    def wake(self) -> None:
        """New work was committed: every idle loop skips the rest of its wait."""
        for loop in self._loops:
            loop.wake.set()

    def run_once(self, *, retries: bool = True) -> int:
        """One pass over every queue (and, with ``retries``, the failures due for another
        try); returns the number of items handled."""
        return self._pass(self._loops[0], retries, None)

    def _pass(self, loop: _Loop, retries: bool, share: Share | None) -> int:
        limit, policy, clock = self.settings.worker_batch_size, self._policy, self.clock
        # The outbox's consumers are every pass's readers: a message none of them would act
        # on is not written (queue.taken).
        readers = loop.outbox_consumers
        done = process_events(
            self.db,
            loop.event_processors,
            limit,
            policy=policy,
            clock=clock,
            retries=retries,
            readers=readers,
            share=share,
        )
        done += process_outbox(
            self.db,
            loop.outbox_consumers,
            limit,
            policy=policy,
            clock=clock,
            retries=retries,
            readers=readers,
        )
        for task in loop.tasks:
            done += task(self.db)
        return done

    def drain(self, max_passes: int = 1000) -> None:
        """Run passes until every queue is idle (tests and the benchmark use this)."""
        for _ in range(max_passes):
            if self.run_once() == 0:
                return

    def _run_loop(self, loop: _Loop) -> None:
        while not self._stop.is_set():
            retries = time.monotonic() >= loop.next_retry_check
            if retries:
                loop.next_retry_check = time.monotonic() + RETRY_CHECK_SECONDS
            try:
                handled = self._pass(loop, retries, loop.share)
            except Exception:
                log.exception("worker pass failed")
                handled = 0
            if handled >= self.settings.worker_batch_size:
                continue  # a backlog: keep going
            # Idle or a partial batch: wait for the poll interval (or a wake-up when idle),
            # so that under load each pass claims a large batch instead of many small ones.
            if handled == 0:
                loop.wake.wait(self.settings.worker_poll_seconds)
                loop.wake.clear()
            else:
                self._stop.wait(self.settings.worker_poll_seconds)

    def start(self) -> None:
        """Run the loops in background threads until :meth:`stop`."""
        self._stop.clear()
        self._threads = [
            threading.Thread(
                target=self._run_loop, args=(loop,), name=f"worker-{n + 1}", daemon=True
            )
            for n, loop in enumerate(self._loops)
        ]
        for thread in self._threads:
            thread.start()

    def request_stop(self) -> None:
        """Ask every loop to stop after its current pass (safe in a signal handler)."""
        self._stop.set()
        for loop in self._loops:
            loop.wake.set()

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def stop(self) -> None:
        """Stop every loop, each after the pass it is in, and wait for them."""
        self.request_stop()
        for thread in self._threads:
            thread.join(timeout=STOP_TIMEOUT_SECONDS)
        self._threads = [thread for thread in self._threads if thread.is_alive()]

    def run_forever(self) -> None:
        """Run the loops until :meth:`request_stop` (a signal handler's), then wait for
        them to finish their passes."""
        self.start()
        try:
            # A timed wait: the main thread stays free to run signal handlers.
            while not self._stop.wait(0.5) and self.running:
                pass
        finally:
            self.stop()
