"""The one canonical ingest call every wire adapter makes."""

from __future__ import annotations

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.ingest.columns import check_lengths
from cartwheel.ingest.properties import Limits
from cartwheel.runtime import Runtime


def limits(runtime: Runtime) -> Limits:
    return Limits(
        max_properties=runtime.settings.max_properties,
        max_string_bytes=runtime.settings.max_string_bytes,
    )


async def ingest(runtime: Runtime, events: list[CanonicalEvent]) -> list[IngestResult | AppError]:
    """Resolve and durably store ``events``; one result or error per event, in order.

    Test events (``event.test``) are resolved read-only and nothing is stored."""
    results: list[IngestResult | AppError | None] = []
    storable: list[CanonicalEvent] = []
    for event in events:
        try:
            check_lengths(event)
        except AppError as exc:
            results.append(exc)
        else:
            results.append(None)
            storable.append(event)
    stored = iter(await runtime.writer.submit(storable))
    return [result if result is not None else next(stored) for result in results]
