"""Multi-row inserts on the ingest hot path, straight to the driver's ``executemany``.

SQLAlchemy's Core ``insert()`` with a list of dicts spends more time building and type-
converting parameters than SQLite spends storing the rows. The ingest writer inserts four
rows per new person (contact, identifier, outbox message, event), so here the values are
converted once, in the storage format SQLAlchemy's own types use for each engine (so ORM
reads see exactly what they expect), and handed to the driver as tuples.

Only used for tables whose columns are plain (ids, strings, numbers, booleans, UTC
datetimes, UUIDs, JSON); anything else goes through SQLAlchemy as usual.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


class BulkInsert:
    """Converts values for, and inserts rows into, one connection's engine."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._encoder = msgspec.json.Encoder()

    # -- value conversion (the storage formats of SQLAlchemy's Uuid, DateTime, JSON) ----

    def uuid(self, value: uuid.UUID | None) -> Any:
        if value is None:
            return None
        return value.hex if self.sqlite else value

    def datetime(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if not self.sqlite:
            return value
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        # isoformat, not strftime: strftime does not zero-pad years before 1000.
        return value.isoformat(sep=" ", timespec="microseconds")

    def json(self, value: Any) -> str | None:
        if value is None:
            return None
        return self._encoder.encode(value).decode()

    # -- inserting ----------------------------------------------------------------------

    def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        types: Sequence[str] | None = None,
    ) -> None:
        """Insert ``rows`` (tuples in ``columns`` order, values already converted). With
        ``types`` (the columns' PostgreSQL type names), PostgreSQL copies in binary and the
        values are the driver's own (datetimes, ``Jsonb``), not their text."""
        if not rows:
            return
        if not self.sqlite:
            self._copy(table, columns, rows, types)
            return
        marks = ", ".join(["?"] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        self.conn.exec_driver_sql(sql, list(rows))

    def _copy(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        types: Sequence[str] | None = None,
    ) -> None:
        # PostgreSQL: COPY is about twice as fast as a pipelined executemany (each row of
        # which is its own statement execution). JSON columns arrive as text and are parsed
        # by the server. Same connection, same transaction as the rest of the batch. In
        # binary, the driver's C dumpers skip formatting each moment as text (a quarter of
        # the client's CPU for flows' rows).
        driver_connection: Any = self.conn.connection.dbapi_connection
        binary = " (FORMAT BINARY)" if types else ""
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN{binary}"
        try:
            with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
                if types:
                    copy.set_types(list(types))
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            # As SQLAlchemy raises what the driver raises for its own statements: callers
            # tell a race (IntegrityError: another writer stored the same key first) from
            # a failure by SQLAlchemy's exceptions, not psycopg's.
            raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
