"""SQL helpers shared by the domains' bulk statements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Subquery,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType


def among(dialect_name: str, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` for a list of ids, as one parameter: on PostgreSQL ``column =
    ANY(:values)``, an array; on SQLite ``column IN (SELECT value FROM json_each(:values))``,
    a JSON list. An IN list of a pass's thousands of contacts or events was that many
    placeholders, each rendered by SQLAlchemy on every execution, and a statement text
    that no driver's cache kept: about a tenth of a drain's CPU on PostgreSQL; on SQLite
    4.5 ms against 1.5 to read a pass's active runs for 1,500 contacts. SQLite's planner
    reads the list's values through the column's index, as it did the IN list's."""
    condition: ColumnElement[bool]
    if dialect_name == "postgresql":
        condition = column == any_(array(column.type, values))
    else:
        condition = column.in_(json_list(column.type, values))
    return condition


def json_list(kind: Any, values: list[Any]) -> Any:
    """SQLite: ``(SELECT value FROM json_each(:values))``, ids (integers, or UUIDs as the
    hex that SQLite stores them as) as one JSON parameter."""
    if isinstance(kind, Uuid):
        values = [value.hex for value in values]
    elif not isinstance(kind, Integer):
        raise TypeError(f"among() takes integer or UUID ids, not {kind!r}")
    encoded = msgspec.json.encode(values).decode()
    each = func.json_each(bindparam(None, encoded, type_=String(), unique=True))
    return select(literal_column("value")).select_from(each).scalar_subquery()


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


def rows_of(dialect_name: str, columns: dict[str, tuple[Any, list[Any]]]) -> Subquery:
    """Rows given as one parameter (``name: (column type, values)``, the lists of equal
    length), to join a table to: on PostgreSQL :func:`unnested`; on SQLite ``(SELECT
    json_extract(value, '$[0]') AS a, … FROM json_each(:rows))``, the rows as one JSON
    list of lists."""
    if dialect_name == "postgresql":
        return unnested(columns)
    values = [values for _, values in columns.values()]
    encoded = msgspec.json.encode([list(row) for row in zip(*values, strict=True)]).decode()
    each = func.json_each(bindparam(None, encoded, type_=String(), unique=True))
    return (
        select(
            *(
                func.json_extract(literal_column("value"), f"$[{index}]").label(name)
                for index, name in enumerate(columns)
            )
        )
        .select_from(each)
        .subquery()
    )


def array(kind: Any, values: list[Any]) -> ColumnElement[Any]:
    """PostgreSQL: ``values`` as one array parameter of ``kind`` (a column's type). Integers
    and UUIDs go as the array's text, cast by the server (``'{1,2,3}'::INTEGER[]``): psycopg
    dumps a list parameter element by element, each tested with a regular expression for
    quoting, a few percent of a drain that sends thousands of ids a pass."""
    if isinstance(kind, Integer | Uuid):
        text = array_text(values)
        # Untyped: psycopg sends a str as of unknown type, which the cast makes the array
        # type itself. (Typed as text it would be a text-to-array cast, which the planner
        # cannot fold: the drain's statements ran ten times slower.)
        return cast(bindparam(None, text, type_=NullType(), unique=True), ARRAY(kind))
    return bindparam(None, list(values), type_=ARRAY(kind), unique=True)


def array_text(values: Iterable[Any]) -> str:
    """Integers or UUIDs as PostgreSQL's array text (``{1,2,3}``), for the server to cast."""
    return "{" + ",".join(map(str, values)) + "}"
