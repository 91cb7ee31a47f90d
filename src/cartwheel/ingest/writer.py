"""The group-commit writer: one thread that turns many concurrent requests into few commits.

Requests hand their events to :meth:`IngestWriter.submit` and wait. The writer thread takes
everything queued (up to ``max_batch`` events), resolves and stores it in one transaction
(:class:`~cartwheel.identity.resolver.BatchResolver`), commits — one fsync for the whole batch —
and only then answers every waiting request. So a 2xx always means committed, and under load
the cost of a commit is shared by every request that arrived while the previous one ran.

If a batch fails because another process committed the same identifier or dedup key first
(a unique-constraint race), the batch is retried and then sees that row. If it fails for any
other reason each submission is retried on its own, so one bad request cannot fail others.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from cartwheel.db import Database
from cartwheel.exceptions import AppError
from cartwheel.identity.resolver import BatchResolver
from cartwheel.ingest import rates
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.models.base import utcnow

log = logging.getLogger(__name__)

Outcome = list[IngestResult | AppError]

_RACE_RETRIES = 5


@dataclass(slots=True)
class _Submission:
    events: list[CanonicalEvent]
    future: Future[Outcome]


class IngestWriter:
    def __init__(
        self,
        db: Database,
        *,
        max_batch: int = 1000,
        clock: Callable[[], datetime] = utcnow,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self._max_batch = max_batch
        self._clock = clock
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Submission | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.events_written = 0

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Finish everything already submitted, then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    # -- submitting ---------------------------------------------------------------------

    async def submit(self, events: list[CanonicalEvent]) -> Outcome:
        """Store ``events`` durably; returns one result (or error) per event, in order."""
        return await asyncio.wrap_future(self.submit_nowait(events))

    def submit_sync(self, events: list[CanonicalEvent]) -> Outcome:
        return self.submit_nowait(events).result()

    def submit_nowait(self, events: list[CanonicalEvent]) -> Future[Outcome]:
        future: Future[Outcome] = Future()
        if not events:
            future.set_result([])
            return future
        if self._thread is None:
            raise RuntimeError("the ingest writer is not running")
        self._queue.put(_Submission(events, future))
        return future

    # -- the writer thread --------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            count = len(first.events)
            while count < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                count += len(item.events)
            self._write(batch)

    def _write(self, batch: list[_Submission]) -> None:
        try:
            outcomes = self._commit(batch)
        except Exception:
            if len(batch) == 1:
                log.exception("ingest batch failed", extra={"events": len(batch[0].events)})
                _fail(batch[0])
                return
            # Isolate the submission that fails; the others still commit.
            for submission in batch:
                self._write([submission])
            return
        for submission, outcome in zip(batch, outcomes, strict=True):
            if not submission.future.done():
                submission.future.set_result(outcome)
        if self._on_commit is not None:
            self._on_commit()

    def _commit(self, batch: list[_Submission]) -> list[Outcome]:
        events = [event for submission in batch for event in submission.events]
        for attempt in range(_RACE_RETRIES):
            try:
                with self.db.write_connection() as conn:
                    now = self._clock()
                    results = BatchResolver(conn, now).run(events)
                    rates.record(conn, now, events, results)
                break
            except (IntegrityError, OperationalError) as exc:
                if attempt == _RACE_RETRIES - 1 or not _is_race(exc):
                    raise
                log.info("ingest batch raced another writer; retrying", extra={"attempt": attempt})
        self.batches += 1
        self.events_written += len(events)
        outcomes: list[Outcome] = []
        start = 0
        for submission in batch:
            outcomes.append(results[start : start + len(submission.events)])
            start += len(submission.events)
        return outcomes


def _is_race(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    # PostgreSQL deadlock / serialization failure; SQLite busy after the timeout.
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "locked" in str(exc.orig)


def _fail(submission: _Submission) -> None:
    if not submission.future.done():
        submission.future.set_exception(RuntimeError("the events could not be stored"))
