"""Claiming and finishing queued rows: the event log and the outbox.

- **Claim.** A pass claims the oldest pending rows with ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL (on SQLite the write lock held by the transaction does the same job), runs
  every handler that wants each row, and marks them all processed, in one transaction. A
  crash before commit leaves the rows pending: the work replays. An event is pending while
  its row in ``pending_events`` exists (the pass deletes it: the event's own wide row is
  never rewritten); an outbox message while its ``processed_at`` is NULL (the pass sets
  it: the row is narrow).
- **Cheap when nothing fails.** The whole batch runs under one savepoint, with no per-row
  statement of the queue's own. A handler may also have a ``flush``, called once at the end
  of the batch inside that savepoint, for work it gathered per row and does in bulk; or,
  when that work mostly reads, a ``plan`` (reads and decides) and an ``apply`` (writes what
  was decided) instead (the segments evaluate each segment once per pass).
- **Reading before writing, on SQLite.** SQLite has one write lock for the whole file, which
  the ingest writer needs for every batch it acknowledges. So on SQLite a pass first claims
  its rows in a read transaction and runs the planning handlers there (``handle`` on their
  rows, then ``plan``); the write transaction that follows marks the rows processed (all of
  them still pending, or it claims afresh), runs the other handlers and applies the plans. Passes on
  SQLite hold the worker lease (:meth:`Database.worker_lease`) across both transactions, so
  no other pass can act between a plan and its apply; each ``apply`` checks what the API
  may have changed meanwhile (the segments: their versions). On PostgreSQL, where claims
  are row locks, everything runs in the one transaction.
- **Isolation.** If anything fails, that savepoint is rolled back and the batch is run again
  with one savepoint per (row, handler): a failing handler undoes only its own work. The rows
  are still marked processed; each failing (row, handler) pair becomes a ``queue_failures``
  row, written in the same transaction.
- **Shares.** The loops of one worker (``CARTWHEEL_WORKER_CONCURRENCY``) each claim a
  share of the event log: the events whose contact id is the loop's number modulo the
  number of loops (events of no contact: the first loop's). So one person's events are
  handled by one loop, in log order, as with one loop, never by two loops at once; the
  outbox, the retries and the periodic tasks are claimed whole by every loop (``SKIP
  LOCKED``), as by several worker processes.
- **Retries.** Each pass also claims the failures that are due (``SKIP LOCKED`` again) and
  runs only their handler on their row, after the rows behind them: a success deletes the
  failure; another failure waits twice as long as the last (capped); after the last try it
  stays as ``failed``, a dead letter, until replayed (``worker/service.py``).
"""

from __future__ import annotations

import logging
import uuid
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import delete, func, select, true, update
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.db import Database, plain_rows
from cartwheel.kit.sql import among
from cartwheel.models import Event, OutboxMessage, PendingEvent
from cartwheel.models.base import utcnow
from cartwheel.worker import metrics, repository

log = logging.getLogger(__name__)

EventProcessor = Callable[[Session, Event], None]
OutboxConsumer = Callable[[Session, OutboxMessage], None]
#: Whether a handler has anything to do with a row. It is asked with the row's header (for an
#: event: ``id``, ``store_id``, ``category``, ``name``, ``silent``; for an outbox message:
#: ``id``, ``store_id``, ``topic``, ``payload``) before the row is loaded, so rows no handler
#: wants are marked done without being loaded at all. It must depend on the row's kind only
#: (an event's store, category, name and silence; a message's store and topic): the queue
#: asks once per kind in a batch, unless the handler is ``per_row`` (it reads a message's
#: payload too).
RowFilter = Callable[[Session, Any], bool]
Clock = Callable[[], datetime]

#: The longest error text kept on a failure.
MAX_ERROR = 1000
#: The ``session.info`` key of the work handlers defer to their flush (:func:`deferred`).
DEFERRED = "cartwheel.queue.deferred"
#: The ``session.info`` key of the outbox's consumers, set on a pass's write session
#: (:func:`taken`).
READERS = "cartwheel.queue.readers"


def _always(_session: Session, _row: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Handler:
    """A processor or consumer, with the rows it wants and a stable name. The name keys its
    failures (``queue_failures.handler``): by default the function's dotted path; pass the
    old name when moving a function that may have failures waiting."""

    handle: Callable[[Session, Any], None]
    wants: RowFilter = _always
    name: str = ""
    #: Optional: does the work ``handle`` deferred (kept in :func:`deferred`), once per
    #: batch, inside the batch's savepoint; after each row when rows run one by one. The
    #: queue drops what was deferred whenever that savepoint is rolled back.
    flush: Callable[[Session], None] | None = None
    #: Optional, instead of ``flush``, for deferred work that mostly reads: ``plan`` reads
    #: and decides, ``apply`` writes what it decided. The queue may run ``handle`` and
    #: ``plan`` in a read transaction before the write transaction that calls ``apply``
    #: (see the module's "Reading before writing"), so ``apply`` must check that what the
    #: plan relied on still holds where others than the worker can change it.
    plan: Callable[[Session], Any] | None = None
    apply: Callable[[Session, Any], None] | None = None
    #: Optional: the only columns ``handle`` reads besides the header's. When every handler
    #: that wants a batch's rows names its columns, the queue reads just those and the
    #: header's as plain rows (for an outbox message whose header has them, nothing more at
    #: all) instead of loading ORM objects.
    columns: tuple[str, ...] | None = None
    #: Whether ``wants`` reads more than the row's kind (an outbox message's payload), so
    #: it is asked for every row.
    per_row: bool = False

    def __post_init__(self) -> None:
        if (self.plan is None) != (self.apply is None):
            raise ValueError("a handler's plan and apply come together")
        if not self.name:
            handle = self.handle
            qualname = getattr(handle, "__qualname__", type(handle).__qualname__)
            object.__setattr__(self, "name", f"{handle.__module__}.{qualname}")

    def __call__(self, session: Session, row: Any) -> None:
        if self.wants(session, row):
            self.handle(session, row)

    @property
    def planned(self) -> bool:
        return self.plan is not None

    def finish(self, session: Session) -> None:
        """Do the deferred work, if this handler defers any."""
        if self.flush is not None:
            self.flush(session)
        if self.plan is not None and self.apply is not None:
            self.apply(session, self.plan(session))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing handler is tried on one row, and how long it waits in between."""

    max_attempts: int = 10
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.queue_max_attempts,
            settings.queue_backoff_base_seconds,
            settings.queue_backoff_cap_seconds,
        )

    def delay(self, attempts: int) -> float | None:
        """Seconds to wait after the ``attempts``-th failed try; None once tries are spent."""
        if attempts >= self.max_attempts:
            return None
        exponent = min(attempts - 1, 62)  # past the cap long before; keeps the float finite
        return float(min(self.backoff_cap_seconds, self.backoff_base_seconds * 2.0**exponent))


@dataclass(frozen=True, slots=True)
class Share:
    """A loop's part of the event log: the events whose contact id is ``index`` modulo
    ``of`` (events of no contact count as contact 0)."""

    index: int
    of: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.of:
            raise ValueError("a share's index is between 0 and the number of shares")


@dataclass(frozen=True, slots=True)
class _Queue:
    name: str
    model: Any
    header: tuple[str, ...]
    parse_id: Callable[[str], Any]
    #: The part of the header that makes a row's kind: handlers are asked once per kind
    #: in a batch (unless they read more, :attr:`Handler.per_row`).
    kind: slice
    #: The column a :class:`Share` divides the rows by (None: the queue is not divided).
    shared_by: str | None = None
    #: The table listing the pending rows by id, which a pass deletes them from; None when
    #: the row's own ``processed_at`` (NULL while pending) marks it.
    pending: Any = None


_EVENTS = _Queue(
    repository.EVENTS,
    Event,
    ("id", "store_id", "category", "name", "silent"),
    uuid.UUID,
    slice(1, 5),  # store, category, name, silent
    "contact_id",
    PendingEvent,
)
# An outbox message's payload is small and says whom the change concerns (a segment entry
# is only wanted where another segment refers to that segment), so it is in the header.
_OUTBOX = _Queue(
    repository.OUTBOX,
    OutboxMessage,
    ("id", "store_id", "topic", "payload"),
    int,
    slice(1, 3),  # store, topic
)


@dataclass(slots=True)
class _Outcomes:
    """Counted into the metrics once the pass has committed."""

    retries: int = 0
    dead_letters: int = 0
    recovered: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, queue: str) -> None:
        if self.retries:
            metrics.RETRIES.labels(queue).inc(self.retries)
        if self.dead_letters:
            metrics.DEAD_LETTERS.labels(queue).inc(self.dead_letters)
        if self.recovered:
            metrics.RECOVERED.labels(queue).inc(self.recovered)


def process_events(
    db: Database,
    processors: Sequence[EventProcessor | Handler],
    limit: int,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock = utcnow,
    retries: bool = True,
    readers: Sequence[Handler] | None = None,
    share: Share | None = None,
) -> int:
    """Run every processor over up to ``limit`` pending events (of ``share`` only, if
    given), then retry up to ``limit`` due failures (unless ``retries`` is false); returns
    how many rows and retries were handled. ``readers``, the outbox's consumers, tell the
    pass's handlers which messages anyone reads (:func:`taken`)."""
    return _process(
        db, _EVENTS, processors, limit, policy or RetryPolicy(), clock, retries, readers, share
    )


def process_outbox(
    db: Database,
    consumers: Sequence[OutboxConsumer | Handler],
    limit: int,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock = utcnow,
    retries: bool = True,
    readers: Sequence[Handler] | None = None,
) -> int:
    """Run every consumer over up to ``limit`` pending outbox messages, then retry up to
    ``limit`` due failures (unless ``retries`` is false); returns how many rows and retries
    were handled. ``readers``: as for :func:`process_events`."""
    return _process(db, _OUTBOX, consumers, limit, policy or RetryPolicy(), clock, retries, readers)


@dataclass(frozen=True, slots=True)
class Message:
    """An outbox message before it is written, as its consumers' ``wants`` are asked."""

    store_id: int
    topic: str
    payload: dict[str, Any]


def taken(session: Session, messages: list[tuple[int, str, dict[str, Any]]]) -> list[Any]:
    """The messages some consumer of the outbox would act on, of these ``(store_id, topic,
    payload)`` about to be emitted in a worker pass's write transaction: a message nobody
    reads would only be claimed, offered to every consumer and marked done. Each consumer
    answers as it would when the message is claimed (its ``wants``, asked with the
    message's header), in the pass's transaction: a consumer that starts reading such
    messages (a webhook subscription, a flow, a segment that refers to another) sees
    those emitted after its own commit. Outside a pass that knows its readers, all of
    them."""
    readers: Sequence[Handler] | None = session.info.get(READERS)
    if readers is None:
        return messages
    # As when claiming: a reader that is not ``per_row`` answers once per store and topic.
    whole: dict[tuple[int, str], bool] = {}
    per_row = [r for r in readers if r.per_row]
    found = []
    for message in messages:
        header = Message(*message)
        kind = (header.store_id, header.topic)
        if kind not in whole:
            whole[kind] = any(r.wants(session, header) for r in readers if not r.per_row)
        if whole[kind] or any(r.wants(session, header) for r in per_row):
            found.append(message)
    return found


def _handlers(handlers: Sequence[Callable[[Session, Any], None]]) -> dict[str, Handler]:
    named: dict[str, Handler] = {}
    for handler in handlers:
        h = handler if isinstance(handler, Handler) else Handler(handler)
        if h.name in named:
            raise ValueError(f"two handlers are named {h.name!r}")
        named[h.name] = h
    return named


def _process(
    db: Database,
    queue: _Queue,
    handlers: Sequence[Callable[[Session, Any], None]],
    limit: int,
    policy: RetryPolicy,
    clock: Clock,
    retries: bool,
    readers: Sequence[Handler] | None,
    share: Share | None = None,
) -> int:
    named = _handlers(handlers)
    outcomes = _Outcomes()
    claim = _Claim(queue, limit, share)
    with db.worker_lease():
        planned = _read_ahead(db, claim, list(named.values())) if db.is_sqlite else None
        if (
            planned is not None
            and not planned.headers
            and not (retries and _due(db, queue, named, clock()))
        ):
            # Nothing to do: no write transaction, so an idle queue never takes the write
            # lock the ingest writer is waiting for.
            return 0
        with db.transaction() as session:
            if readers is not None:
                session.info[READERS] = readers
            now = clock()
            handled = _first_pass(session, db, claim, list(named.values()), now, outcomes, planned)
            if retries:
                handled += _retry_due(session, db, queue, named, limit, policy, now, outcomes)
            repository.add(session, [_failed(f, policy, now, outcomes) for f in outcomes.failures])
    outcomes.publish(queue.name)
    return handled


@dataclass(slots=True)
class _ReadAhead:
    """A pass's claim and its planning handlers' plans, made in a read transaction."""

    headers: list[Any]
    #: Each planning handler's plan, by handler name; a handler whose plan failed is absent
    #: and runs again, whole, in the write transaction.
    plans: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Claim:
    """What a pass claims: up to ``limit`` pending rows of ``queue`` (of ``share``, if the
    queue is divided into shares: the event log is, the outbox is not)."""

    queue: _Queue
    limit: int
    share: Share | None = None


def _claim(
    session: Session, db: Database, claim: _Claim, columns: tuple[str, ...] = ()
) -> list[Any]:
    """The headers of up to ``limit`` pending rows, oldest first (locked on PostgreSQL),
    with ``columns`` besides."""
    queue, share = claim.queue, claim.share
    model, pending = queue.model, queue.pending
    wanted = (*queue.header, *(c for c in columns if c not in queue.header))
    shared_by = queue.shared_by if share is not None and share.of > 1 else None
    read = (*wanted, shared_by) if shared_by is not None and shared_by not in wanted else wanted
    rows: Any = model.__table__
    if pending is None:
        query = select().where(model.processed_at.is_(None)).order_by(model.id)
    elif db.is_sqlite:
        query = select().outerjoin_from(pending, model, model.id == pending.id)
        query = query.order_by(pending.id)
    else:
        # Each pending row's event looked up by its key, in the queue's order, as a
        # subquery the planner cannot merge into a join (OFFSET 0). As a join, PostgreSQL
        # misjudged the share's filter and hash-joined the whole log: 120 ms to claim
        # 1,500 of 300,000 events, against 8 this way (EXPLAIN ANALYZE).
        rows = select(*(getattr(model, c) for c in read)).where(model.id == pending.id)
        rows = rows.offset(0).lateral()
        query = select().select_from(pending).outerjoin(rows, true()).order_by(pending.id)
    # A queued row whose event is gone (deleted by hand: the queue has no foreign key) comes
    # back with only its id, is wanted by no handler, and is deleted as processed.
    ids = pending.id.label("id") if pending is not None else rows.c.id
    query = query.add_columns(ids, *(rows.c[c] for c in wanted if c != "id"))
    query = query.limit(claim.limit)
    if shared_by is not None:
        assert share is not None
        query = query.where(func.coalesce(rows.c[shared_by], 0) % share.of == share.index)
    if not db.is_sqlite:
        # The pending rows are what a claim holds (the events stay readable to all).
        query = query.with_for_update(skip_locked=True, of=pending if pending is not None else None)
    # Columns, not entities: read through the connection, without the ORM's per-row work
    # (:func:`plain_rows`); each row as a named tuple (:func:`_header`).
    names = tuple(column.key for column in query.selected_columns)
    return list(map(_header(names)._make, plain_rows(session.connection(), query)))


@cache
def _header(columns: tuple[str, ...]) -> Any:
    """A named tuple of these columns (made once per set: a queue claims the same few), for
    the claimed rows: the queue and its handlers read a few of each row's columns by name,
    and a SQLAlchemy ``Row``'s attribute costs ~0.4 µs (its ``__getattr__`` fallback)
    against ~0.03 for a named tuple's."""
    return namedtuple("Header", columns)


def _wanted(
    session: Session, queue: _Queue, headers: list[Any], handlers: list[Handler]
) -> dict[str, list[Any]]:
    """Per handler, the headers of the rows it wants."""
    found: dict[str, list[Any]] = {h.name: [] for h in handlers}
    kinds: dict[tuple[Any, ...], list[Any]] = {}
    for header in headers:
        if header.store_id is not None:  # else a queued event that is gone (:func:`_claim`)
            kinds.setdefault(header[queue.kind], []).append(header)
    for same in kinds.values():
        for handler in handlers:
            if handler.per_row:
                found[handler.name] += [h for h in same if handler.wants(session, h)]
            elif handler.wants(session, same[0]):
                found[handler.name] += same
    return found


def _load(
    session: Session, queue: _Queue, headers: list[Any], columns: tuple[str, ...] | None = None
) -> list[Any]:
    """The rows of these headers, in order: ORM objects, or plain rows of ``columns``."""
    if not headers:
        return []
    model = queue.model
    if columns is not None and set(columns) <= set(headers[0]._fields):
        return headers
    ids = sorted({h.id for h in headers})
    chosen = among(_dialect(session), model.id, ids)
    if columns is None:
        return list(session.scalars(select(model).where(chosen).order_by(model.id)))
    wanted = (*queue.header, *(c for c in columns if c not in queue.header))
    query = select(*(getattr(model, c) for c in wanted)).where(chosen).order_by(model.id)
    return list(map(_header(wanted)._make, plain_rows(session.connection(), query)))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


#: Per queue, the planning handlers that wanted rows in its last pass (in this process).
#: A claim reads only their columns: a handler with nothing to do (no live flow, no
#: segment) costs no column of every claimed row. Only a matter of speed: a handler that
#: wants rows whose columns were not claimed has them read by id (:func:`_load`), and the
#: next claim reads its columns again.
_WANTING: dict[str, set[str]] = {}


def _claimed_columns(queue: _Queue, planning: list[Handler]) -> tuple[str, ...]:
    last = _WANTING.get(queue.name)
    return _columns([h for h in planning if last is None or h.name in last]) or ()


def _remember_wanting(queue: _Queue, planning: list[Handler], wanted: dict[str, list[Any]]) -> None:
    _WANTING[queue.name] = {h.name for h in planning if wanted[h.name]}


def _wanting(handlers: list[Handler], wanted: dict[str, list[Any]]) -> list[Handler]:
    return [h for h in handlers if wanted[h.name]]


def _columns(handlers: list[Handler]) -> tuple[str, ...] | None:
    """The columns all these handlers read, or None when one needs the whole row."""
    found: set[str] = set()
    for handler in handlers:
        if handler.columns is None:
            return None
        found.update(handler.columns)
    return tuple(sorted(found))


def _read_ahead(db: Database, claim: _Claim, handlers: list[Handler]) -> _ReadAhead | None:
    """Claim a batch and run the planning handlers over it in a read transaction (SQLite:
    without the write lock). None when no handler plans."""
    planning = [h for h in handlers if h.planned]
    if not planning:
        return None
    queue = claim.queue
    with db.read() as session:
        # The planning handlers' columns come with the claim (they want most of a busy
        # store's rows): no second read of the rows by id.
        headers = _claim(session, db, claim, _claimed_columns(queue, planning))
        plans: dict[str, Any] = {}
        if not headers:
            return _ReadAhead(headers, plans)
        wanted = _wanted(session, queue, headers, planning)
        _remember_wanting(queue, planning, wanted)
        rows = _load(session, queue, _any(wanted), _columns(_wanting(planning, wanted)))
        for handler in planning:
            mine = {h.id for h in wanted[handler.name]}
            try:
                for row in rows:
                    if row.id in mine:
                        handler.handle(session, row)
                assert handler.plan is not None
                plans[handler.name] = handler.plan(session)
            except Exception:
                log.info(
                    "queue plan failed; the write transaction runs it again",
                    extra={"queue": queue.name, "handler": handler.name},
                )
            finally:
                _discard(session)
        return _ReadAhead(headers, plans)


def _first_pass(
    session: Session,
    db: Database,
    claim: _Claim,
    handlers: list[Handler],
    now: datetime,
    outcomes: _Outcomes,
    ahead: _ReadAhead | None = None,
) -> int:
    """Claim up to ``limit`` pending rows (oldest first), or take the batch read ahead, load
    and handle those some handler wants, and mark all of them processed."""
    queue = claim.queue
    plans: dict[str, Any] = {}
    headers: list[Any] = []
    if ahead is not None:
        if not ahead.headers:
            return 0
        # Still pending? With the lease held nothing else can have taken them; a pass that
        # ran without it (an older version) makes this one start over within its
        # transaction.
        nested = session.begin_nested()
        if _mark(session, queue, ahead.headers, now, pending_only=True) == len(ahead.headers):
            nested.commit()
            headers, plans = ahead.headers, ahead.plans
        else:
            nested.rollback()
    if not headers:
        # As the read-ahead claims (PostgreSQL claims here): with the planning handlers'
        # columns, so their rows need no second read.
        planning = [h for h in handlers if h.planned]
        headers = _claim(session, db, claim, _claimed_columns(queue, planning))
        if not headers:
            return 0
        _mark(session, queue, headers, now)
    # The handlers that planned ahead have handled their rows; the others run here.
    running = [h for h in handlers if h.name not in plans]
    applies = [(h, plans[h.name]) for h in handlers if h.name in plans]
    wanted = _wanted(session, queue, headers, running)
    if not plans:
        _remember_wanting(queue, [h for h in running if h.planned], wanted)
    wanting = _wanting(running, wanted)
    rows = _load(session, queue, _any(wanted), _columns(wanting))
    if (rows or applies) and not _try_batch(session, rows, wanted, running, applies):
        log.info("queue batch failed; handling it row by row", extra={"queue": queue.name})
        everyone = _any(_wanted(session, queue, headers, handlers))
        _run_rows(session, queue, _load(session, queue, everyone), handlers, outcomes)
    return len(headers)


def _mark(
    session: Session,
    queue: _Queue,
    headers: list[Any],
    now: datetime,
    *,
    pending_only: bool = False,
) -> int:
    """Mark these rows processed (in the pass's transaction); how many were marked (with
    ``pending_only``, how many were still pending: a queue table's rows always are)."""
    ids = [h.id for h in headers]
    statement: Any
    if queue.pending is not None:
        statement = delete(queue.pending).where(among(_dialect(session), queue.pending.id, ids))
    else:
        model = queue.model
        statement = update(model).where(among(_dialect(session), model.id, ids))
        if pending_only:
            statement = statement.where(model.processed_at.is_(None))
        statement = statement.values(processed_at=now)
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0))


def _any(wanted: dict[str, list[Any]]) -> list[Any]:
    """The headers some handler wants, in order, once each."""
    seen: dict[Any, Any] = {}
    for headers in wanted.values():
        for header in headers:
            seen.setdefault(header.id, header)
    return [seen[i] for i in sorted(seen)]


def _try_batch(
    session: Session,
    rows: list[Any],
    wanted: dict[str, list[Any]],
    handlers: list[Handler],
    applies: list[tuple[Handler, Any]],
) -> bool:
    """Handle ``rows`` (each by the handlers that want it) under one savepoint, then every
    handler's flush and the plans made ahead applied, in it; False, with the savepoint
    rolled back, if anything failed."""
    wanting = [(h, {header.id for header in wanted[h.name]}) for h in handlers if wanted[h.name]]
    try:
        with session.begin_nested():
            for row in rows:
                for handler, ids in wanting:
                    if row.id in ids:
                        handler.handle(session, row)
            for handler in handlers:
                handler.finish(session)
            for handler, plan in applies:
                assert handler.apply is not None
                handler.apply(session, plan)
        return True
    except Exception:
        log.debug("queue batch failed", exc_info=True)
        _discard(session)  # what the failed batch deferred went with its savepoint
        return False


def _run_rows(
    session: Session,
    queue: _Queue,
    rows: list[Any],
    handlers: list[Handler],
    outcomes: _Outcomes,
) -> None:
    """Run every (row, handler) pair, with its deferred work, under a savepoint of its own,
    noting the pairs that fail."""
    for row in rows:
        for handler in handlers:
            if not handler.wants(session, row):
                continue
            error = _run(session, queue, handler, row)
            if error is not None:
                outcomes.failures.append(
                    {
                        "store_id": row.store_id,
                        "queue": queue.name,
                        "row_id": str(row.id),
                        "handler": handler.name,
                        "attempts": 1,
                        "last_error": error,
                    }
                )


def _run(session: Session, queue: _Queue, handler: Handler, row: Any) -> str | None:
    """Run one handler on one row under its own savepoint; the error text if it failed."""
    try:
        with session.begin_nested():
            handler(session, row)
            handler.finish(session)
    except Exception as exc:
        _discard(session)
        log.warning(
            "queue handler failed",
            exc_info=True,
            extra={"queue": queue.name, "row_id": str(row.id), "handler": handler.name},
        )
        return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    return None


def deferred(session: Session) -> dict[str, Any]:
    """Where handlers keep the work they defer to their flush, for this session; the queue
    empties it when the savepoint the work was gathered in is rolled back."""
    found: dict[str, Any] = session.info.setdefault(DEFERRED, {})
    return found


def _discard(session: Session) -> None:
    session.info.pop(DEFERRED, None)


def _after_failure(
    attempts: int, policy: RetryPolicy, now: datetime, outcomes: _Outcomes
) -> dict[str, Any]:
    """The columns a failure gets after its ``attempts``-th failed try."""
    delay = policy.delay(attempts)
    if delay is None:
        outcomes.dead_letters += 1
        return {
            "status": repository.FAILED,
            "next_attempt_at": None,
            "failed_at": now,
            "last_attempt_at": now,
        }
    outcomes.retries += 1
    return {
        "status": repository.PENDING,
        "next_attempt_at": now + timedelta(seconds=delay),
        "failed_at": None,
        "last_attempt_at": now,
    }


def _failed(
    failure: dict[str, Any], policy: RetryPolicy, now: datetime, outcomes: _Outcomes
) -> dict[str, Any]:
    return {**failure, **_after_failure(1, policy, now, outcomes), "created_at": now}


def _due(db: Database, queue: _Queue, named: dict[str, Handler], now: datetime) -> bool:
    """Whether a failure of these handlers is due for a retry (read, not claimed)."""
    with db.read() as session:
        return bool(repository.claim_due(session, queue.name, list(named), now, 1, False))


def _retry_due(
    session: Session,
    db: Database,
    queue: _Queue,
    named: dict[str, Handler],
    limit: int,
    policy: RetryPolicy,
    now: datetime,
    outcomes: _Outcomes,
) -> int:
    """Run each due failure's handler again on its row, alone."""
    due = repository.claim_due(session, queue.name, list(named), now, limit, not db.is_sqlite)
    if not due:
        return 0
    model = queue.model
    ids = {queue.parse_id(f.row_id) for f in due}
    rows = {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}
    resolved: list[int] = []
    for failure in due:
        row = rows.get(queue.parse_id(failure.row_id))
        if row is None:  # the row is gone (its store was deleted): nothing left to do
            resolved.append(failure.id)
            continue
        error = _run(session, queue, named[failure.handler], row)
        if error is None:
            resolved.append(failure.id)
            outcomes.recovered += 1
            continue
        attempts = failure.attempts + 1
        values = _after_failure(attempts, policy, now, outcomes)
        values.update(attempts=attempts, last_error=error)
        repository.change(session, failure.id, values)
        if values["status"] == repository.FAILED:
            log.error(
                "queue handler failed for the last time",
                extra={"queue": queue.name, "row_id": failure.row_id, "handler": failure.handler},
            )
    repository.resolve(session, resolved)
    return len(due)
