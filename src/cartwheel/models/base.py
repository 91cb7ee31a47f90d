"""Declarative base, naming convention and the column types every table shares."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from cartwheel.kit.ids import MAX_ID as _MAX_ID

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The largest integer primary key, defined once in :mod:`cartwheel.kit.ids`.
MAX_ID = _MAX_ID


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        """Each moment converted once per statement's processor: the rows of a bulk insert
        share their moments (``now``, a batch's timers). On SQLite straight to the text
        SQLAlchemy stores (``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC), in one C call."""
        convert = _sqlite_text if dialect.name == "sqlite" else super().bind_processor(dialect)
        assert convert is not None
        kept = _kept(convert)

        def process(value: datetime | None) -> Any:
            return None if value is None else kept(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, the stored text parsed in one C call (``datetime.fromisoformat``)
        instead of SQLAlchemy's parser and then :meth:`process_result_value`: the worker
        reads many moments per event. Each text is parsed once per processor while it is
        kept (as :meth:`bind_processor` keeps its conversions): the rows read together
        mostly share their moments (a batch's ``now``, an ingest request's receipt), and a
        dictionary lookup costs a third of a parse."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        fallback = super().result_processor(dialect, coltype)
        parsed = _kept(_sqlite_moment)

        def process(value: Any) -> datetime | None:
            if not isinstance(value, str):
                return fallback(value) if fallback is not None else value
            return parsed(value)

        return process


def _sqlite_text(value: datetime) -> str:
    """A moment as SQLite stores it: naive UTC, microseconds always written (the text's
    order is the moments' order)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _sqlite_moment(text: str) -> datetime:
    """The moment SQLite stored as ``text``, aware, in UTC."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


#: How many converted moments one of :class:`UTCDateTime`'s processors keeps.
_MOMENTS_KEPT = 4096

_In = TypeVar("_In", bound=Hashable)
_Out = TypeVar("_Out")


def _kept(convert: Callable[[_In], _Out]) -> Callable[[_In], _Out]:
    """``convert`` with its answers kept (the last :data:`_MOMENTS_KEPT` at most)."""
    answers: dict[_In, _Out] = {}

    def kept(value: _In) -> _Out:
        found = answers.get(value)
        if found is None:
            if len(answers) >= _MOMENTS_KEPT:
                answers.clear()
            found = answers[value] = convert(value)
        return found

    return kept


# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


_uuid7_lock = threading.Lock()
_uuid7_last = 0


_random = random.Random(os.urandom(16))
# A forked child must not repeat its parent's sequence.
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(16)))


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): sorts by creation time, indexes well.

    Monotonic within the process (RFC 9562 §6.2): ids made in the same millisecond — the
    events of one batch — still sort in the order they were made."""
    global _uuid7_last
    ms = time.time_ns() // 1_000_000
    # Event ids need uniqueness and order, not secrecy: the seeded Mersenne Twister is an
    # order of magnitude cheaper than a getrandom() syscall per id on the ingest path.
    rand = _random.getrandbits(80)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    with _uuid7_lock:
        if value <= _uuid7_last:
            # Same millisecond (or the clock stepped back): count up from the last id. The
            # random low 62 bits leave room for ~2**61 increments before touching the variant.
            value = _uuid7_last + 1
        _uuid7_last = value
    return uuid.UUID(int=value)
