"""SQL helpers shared by the domains' bulk statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType


def among(dialect_name: str, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:values)``, one array parameter:
    an IN list of a pass's thousands of contacts or events was that many placeholders, each
    rendered with its cast, and a statement text too long for psycopg's cache, parsed again
    on every execution (about a tenth of a drain's CPU in its profile, half of it flows'
    queries). SQLite keeps the IN list (its planner's index choices were checked with it)."""
    condition: ColumnElement[bool]
    if dialect_name == "postgresql":
        condition = column == any_(array(column.type, values))
    else:
        condition = column.in_(values)
    return condition


def unnested(columns: dict[str, tuple[Any, list[Any]]]) -> Subquery:
    """PostgreSQL: ``(SELECT unnest(:a) AS a, unnest(:b) AS b, …)``, rows given as one array
    parameter per column (``name: (column type, values)``, the lists of equal length), for
    ``INSERT … SELECT``. A many-row insert whose rows must come back (``RETURNING``) is
    otherwise sent as VALUES lists of a thousand rows, three placeholders each, every one
    rendered with its cast and the text parsed again by psycopg: in a segments drain those
    inserts took a fifth of the time."""
    return select(
        *(func.unnest(array(kind, values)).label(name) for name, (kind, values) in columns.items())
    ).subquery()


def array(kind: Any, values: list[Any]) -> ColumnElement[Any]:
    """PostgreSQL: ``values`` as one array parameter of ``kind`` (a column's type). Integers
    and UUIDs go as the array's text, cast by the server (``'{1,2,3}'::INTEGER[]``): psycopg
    dumps a list parameter element by element, each tested with a regular expression for
    quoting, a few percent of a drain that sends thousands of ids a pass."""
    if isinstance(kind, Integer | Uuid):
        text = "{" + ",".join(map(str, values)) + "}"
        # Untyped: psycopg sends a str as of unknown type, which the cast makes the array
        # type itself. (Typed as text it would be a text-to-array cast, which the planner
        # cannot fold: the drain's statements ran ten times slower.)
        return cast(bindparam(None, text, type_=NullType(), unique=True), ARRAY(kind))
    return bindparam(None, list(values), type_=ARRAY(kind), unique=True)
