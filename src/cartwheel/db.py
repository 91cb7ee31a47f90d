"""Engine and sessions: the one place that turns a database URL into connections and
the one place a transaction commits.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit survives a power cut) and every
writing transaction starts with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then
writes can fail at once with "database is locked" instead of waiting its turn.
PostgreSQL runs with its default ``synchronous_commit=on``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Engine,
    Float,
    Integer,
    Select,
    String,
    Text,
    Unicode,
    Uuid,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeEngine

from cartwheel.models.base import UTCDateTime


def normalize_url(url: str) -> str:
    """Pick Cartwheel's driver for a plain ``sqlite://`` or ``postgresql://`` URL."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _json_dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    normalized = normalize_url(url)
    # msgspec encodes JSON columns several times faster than the json module.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", msgspec.json.decode)
    if normalized.startswith("sqlite"):
        _create_private_file(make_url(normalized).database)
        engine = create_engine(
            normalized,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=16,
            **kwargs,
        )
        _configure_sqlite(engine)
    else:
        # The session's time zone named "UTC": moments come back in UTC whatever the
        # server's default (date arithmetic in SQL too), and psycopg then gives them
        # datetime.timezone.utc, which UTCDateTime passes through without converting.
        kwargs.setdefault("connect_args", {"options": "-c TimeZone=UTC"})
        engine = create_engine(normalized, pool_size=10, max_overflow=20, **kwargs)
    return engine


def plain_rows(connection: Connection, statement: Select[*tuple[Any, ...]]) -> Iterable[Any]:
    """``statement``'s rows, each a tuple of its columns. On PostgreSQL, when every column
    is of a type psycopg returns as SQLAlchemy would (:func:`_as_read`), they are the
    driver's rows, built by psycopg in C: iterating SQLAlchemy's rows cost 9 µs a row of
    ten columns against 3 (a worker pass's claimed events, its contacts' runs).
    Otherwise, and on SQLite (whose moments and JSON are text), SQLAlchemy's, iterated
    once: its ``all()`` cost 14 µs a head on SQLite against 11 iterated."""
    result = connection.execute(statement)
    if connection.dialect.name == "postgresql" and all(
        _as_read(column.type) for column in statement.selected_columns
    ):
        with result:
            return result.cursor.fetchall()
    return result


def _as_read(kind: TypeEngine[Any]) -> bool:
    """Whether psycopg returns this type's values as SQLAlchemy's result would: integers,
    text (a JSON value's ``as_string()`` is ``Unicode``), booleans, UUIDs and floats as
    such; JSON decoded (by the engine's ``json_deserializer``, which SQLAlchemy hands
    psycopg); ``UTCDateTime`` in ``datetime.timezone.utc``, the session's time zone
    (:func:`create_db_engine`), which ``UTCDateTime`` passes through. Exact classes: a
    subclass (an ``Enum`` is a ``String``) may convert."""
    cls = type(kind)
    if cls is Uuid:
        return bool(kind.as_uuid)  # type: ignore[attr-defined]
    if cls is Float:
        return not kind.asdecimal  # type: ignore[attr-defined]
    return cls in _DRIVER_TYPES


_DRIVER_TYPES = frozenset({Integer, String, Unicode, Text, Boolean, JSON, UTCDateTime})


def _create_private_file(path: str | None) -> None:
    """Create a new SQLite database file readable by its owner only (0600), before SQLite
    creates it with the umask's mode; its -wal and -shm files take the same mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class FairLock:
    """A lock handed to waiters in arrival order. ``threading.Lock`` is not fair: the ingest
    writer, releasing and re-acquiring it in a loop, would starve the worker and let the
    processing backlog grow without bound under load."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            baton = threading.Lock()
            baton.acquire()
            self._waiters.append(baton)
        baton.acquire()  # released by the holder handing the lock over to us

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # ownership passes; _held stays True
            else:
                self._held = False

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class FileLock:
    """An exclusive ``flock`` on a file beside the database, shared by every process that
    opens it through :class:`Database`: a process waiting for it sleeps in the kernel and
    wakes the moment the holder lets go."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> FileLock:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *_exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


def _lock_path(engine: Engine, purpose: str) -> str | None:
    """A lock file beside a SQLite database file (none for an in-memory database)."""
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return f"{path}-{purpose}"


class _Locks:
    """A thread lock and, where the database is a file, a file lock: held together, they
    exclude every other thread and every other Cartwheel process."""

    def __init__(self, thread_lock: FairLock | threading.Lock, path: str | None) -> None:
        self._thread_lock = thread_lock
        self._file_lock = FileLock(path) if path is not None else None

    def __enter__(self) -> _Locks:
        self._thread_lock.acquire()
        if self._file_lock is not None:
            try:
                self._file_lock.__enter__()
            except BaseException:
                self._thread_lock.release()
                raise
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._file_lock is not None:
            self._file_lock.__exit__()
        self._thread_lock.release()

    def close(self) -> None:
        if self._file_lock is not None:
            self._file_lock.close()
            self._file_lock = None


class Database:
    """Holds the engine and hands out sessions; commits happen in :meth:`transaction`.

    On SQLite, writing transactions take two locks before ``BEGIN IMMEDIATE``: a process-wide,
    first-come first-served lock (threads queue on a lock that wakes them in turn the moment
    it is free), then a file lock beside the database that every Cartwheel process takes
    (an API process and a ``cartwheel worker`` wait for each other in the kernel, not in
    SQLite's busy handler, which polls with sleeps of up to 100 ms and so leaves the lock
    idle while a writer sleeps). Other programs writing the file still meet
    ``busy_timeout``.

    On SQLite a worker's pass reads before it writes (``worker/queue.py``); it holds the
    worker lease (:meth:`worker_lease`) across both, so passes of several worker threads or
    processes never interleave."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)
        self._write_lock: _Locks | None = None
        self._worker_lease: _Locks | None = None
        if is_sqlite(self.engine):
            self._write_lock = _Locks(FairLock(), _lock_path(self.engine, "writer"))
            self._worker_lease = _Locks(threading.Lock(), _lock_path(self.engine, "worker"))
        self._read_engine = self.engine.execution_options(sqlite_begin="DEFERRED")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing unit of work: commits on success, rolls back on any exception."""
        with self._writing(), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A writing Core connection in a transaction (commits on success)."""
        with self._writing(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    @contextmanager
    def worker_lease(self) -> Iterator[None]:
        """On SQLite, held by a worker pass from its reads to its commit (one pass at a time
        across threads and processes); nothing on PostgreSQL, where passes claim rows."""
        if self._worker_lease is None:
            yield
            return
        with self._worker_lease:
            yield

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (never takes SQLite's write lock)."""
        with self._read_sessions() as session:
            yield session  # closing the session rolls the read transaction back

    def dispose(self) -> None:
        self.engine.dispose()
        for locks in (self._write_lock, self._worker_lease):
            if locks is not None:
                locks.close()
