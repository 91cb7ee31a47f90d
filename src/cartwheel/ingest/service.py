"""The one canonical ingest call the pipeline makes for every wire format."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from cartwheel.db import Database
from cartwheel.exceptions import AppError
from cartwheel.identity.resolver import BatchResolver
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.ingest.columns import check_canonical
from cartwheel.models.base import utcnow
from cartwheel.runtime import Runtime

Outcome = IngestResult | AppError


async def ingest(runtime: Runtime, events: list[CanonicalEvent]) -> list[Outcome]:
    """Resolve and durably store ``events``; one result or error per event, in order.

    Test events (``event.test``) are validated and resolved in a read-only transaction:
    they never reach the ingest writer nor take the database's write lock."""
    results: list[Outcome | None] = []
    storable: list[CanonicalEvent] = []
    tests: list[CanonicalEvent] = []
    for event in events:
        try:
            check_canonical(event)
        except AppError as exc:
            results.append(exc)
        else:
            results.append(None)
            (tests if event.test else storable).append(event)
    stored = iter(await runtime.writer.submit(storable) if storable else ())
    tried = iter(await run_in_threadpool(resolve_tests, runtime.db, tests) if tests else ())
    return [
        result if result is not None else next(tried) if event.test else next(stored)
        for event, result in zip(events, results, strict=True)
    ]


def resolve_tests(db: Database, events: list[CanonicalEvent]) -> list[Outcome]:
    """Test events resolved against the committed contacts in a deferred (read-only)
    transaction, which never blocks or waits for a writer; nothing is written."""
    with db.read() as session:
        return BatchResolver(session.connection(), utcnow()).run(events)
