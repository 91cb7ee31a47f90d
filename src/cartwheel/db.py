"""Engine and sessions: the one place that turns a database URL into connections and
the one place a transaction commits.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit survives a power cut) and every
writing transaction starts with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then
writes can fail at once with "database is locked" instead of waiting its turn.
PostgreSQL runs with its default ``synchronous_commit=on``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


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
        engine = create_engine(normalized, pool_size=10, max_overflow=20, **kwargs)
    return engine


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


class Database:
    """Holds the engine and hands out sessions; commits happen in :meth:`transaction`.

    On SQLite, writing transactions of this process also take a process-wide, first-come
    first-served lock before ``BEGIN IMMEDIATE``: threads then queue on a lock that wakes
    them in turn the moment it is free, instead of on SQLite's busy handler, which polls with
    sleeps of up to 100 ms. Other processes still meet ``busy_timeout``."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)
        self._write_lock: FairLock | None = FairLock() if is_sqlite(self.engine) else None
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
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (never takes SQLite's write lock)."""
        with self._read_sessions() as session:
            yield session  # closing the session rolls the read transaction back

    def dispose(self) -> None:
        self.engine.dispose()
