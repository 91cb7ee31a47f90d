"""SQL helpers shared by the domains' bulk statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def among(dialect_name: str, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:values)``, one array parameter:
    an IN list of a pass's thousands of contacts or events was that many placeholders, each
    rendered with its cast, and a statement text too long for psycopg's cache, parsed again
    on every execution (about a tenth of a drain's CPU in its profile, half of it flows'
    queries). SQLite keeps the IN list (its planner's index choices were checked with it)."""
    condition: ColumnElement[bool]
    if dialect_name == "postgresql":
        array = bindparam(None, list(values), type_=ARRAY(column.type), unique=True)
        condition = column == any_(array)
    else:
        condition = column.in_(values)
    return condition
