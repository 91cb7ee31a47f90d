"""The store's event log through the store data API: filtered, newest first, in pages that a
cursor links.

"Newest" is by ``occurred_at`` (when it happened, as the sender said), then by id, which is
time-ordered (uuid7): the order a reader of a log of things that happened expects, and the
one that makes a time range an index range. The cursor is the position of a page's last
event, not an offset: an event stored while a client pages lands either before the pages it
has read (it never sees it, and nothing shifts) or among those it has not (it sees it once)."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from cartwheel.events import queries
from cartwheel.events.queries import EventFilter, Position
from cartwheel.events.schemas import EventView, event_view
from cartwheel.exceptions import BadRequest
from cartwheel.kit.pagination import CursorPage

DEFAULT_LIMIT = 50
MAX_LIMIT = 250

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: Decoded cursor: "<occurred_at in µs since the epoch>.<event id in hex>".
_POSITION = re.compile(r"(-?[0-9]{1,18})\.([0-9a-f]{32})")
_MAX_CURSOR_LENGTH = 80


def list_events(
    session: Session, store_id: int, where: EventFilter, cursor: str | None, limit: int
) -> CursorPage[EventView]:
    after = decode_cursor(cursor) if cursor else None
    # One more than asked tells whether another page follows without counting.
    rows = queries.store_events(session, store_id, where, after, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return CursorPage(
        items=[event_view(e) for e in page],
        nextCursor=encode_cursor(Position(page[-1].occurred_at, page[-1].id)) if more else None,
    )


def encode_cursor(position: Position) -> str:
    micros = (position.occurred_at - _EPOCH) // _MICROSECOND
    raw = f"{micros}.{position.id.hex}".encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; anything this API did not hand out is a 400."""
    invalid = BadRequest("The cursor parameter is not valid: pass nextCursor as it is.")
    if len(cursor) > _MAX_CURSOR_LENGTH or not cursor.isascii():
        raise invalid
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        match = _POSITION.fullmatch(raw.decode("ascii"))
        if match is None:
            raise invalid
        occurred_at = _EPOCH + int(match.group(1)) * _MICROSECOND
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise invalid from None
    return Position(occurred_at, uuid.UUID(hex=match.group(2)))


#: The overview's spans: how far back, and how many minutes one point of the chart covers.
SPANS: dict[str, tuple[timedelta, int]] = {
    "hour": (timedelta(hours=1), 1),
    "day": (timedelta(days=1), 10),
    "week": (timedelta(days=7), 60),
}


@dataclass(frozen=True, slots=True)
class IngestRate:
    """Events stored per minute, by wire format, averaged over buckets of ``bucket_minutes``
    (one point per bucket, ``starts`` in UTC), and the total over the span."""

    starts: list[datetime]
    bucket_minutes: int
    per_minute: dict[str, list[float]]
    total: int


def ingest_rate(session: Session, store_id: int, span: str, now: datetime) -> IngestRate:
    """The store's ingest rate over ``span`` (``hour``, ``day`` or ``week``)."""
    length, bucket = SPANS[span]
    step = timedelta(minutes=bucket)
    # Buckets end at the current minute's end: the last one is still filling.
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    count = int(length / step)
    start = end - count * step
    starts = [start + i * step for i in range(count)]
    per_minute: dict[str, list[float]] = {}
    total = 0
    first_minute = int(start.timestamp()) // 60
    for index, wire, n in queries.minutes(session, store_id, first_minute, bucket, count):
        if not 0 <= index < count:
            continue
        series = per_minute.setdefault(wire, [0.0] * count)
        series[index] += n / bucket
        total += n
    return IngestRate(starts, bucket, dict(sorted(per_minute.items())), total)
