"""``limit``/``skip`` pagination with the ``items``/``totalCount`` envelope used by every
list endpoint, and cursor pagination (``items``/``nextCursor``) for lists too long to count
or to skip through. Out-of-range values are a 400, never silently clamped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cartwheel.exceptions import BadRequest

T = TypeVar("T")

DEFAULT_LIMIT = 30
MAX_LIMIT = 50
#: The largest ``skip``: far beyond any real list, and well inside the 64-bit integer both
#: engines bind an OFFSET as (2^63 would overflow the SQLite driver: a 500).
MAX_SKIP = 1_000_000_000


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    skip: int = 0


def page_params(
    limit: str | None = Query(
        default=None, description=f"Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."
    ),
    skip: str | None = Query(
        default=None, description=f"Items to skip, 0 to {MAX_SKIP:,} (default 0)."
    ),
) -> PageParams:
    """Parse ``limit``/``skip`` by hand so a bad value gets this API's 400, not a 422."""
    between = f"must be between 1 and {MAX_LIMIT}"
    return PageParams(
        limit=_parse_int("limit", limit, DEFAULT_LIMIT, (1, between), (MAX_LIMIT, between)),
        skip=_parse_int(
            "skip", skip, 0, (0, "must be at least 0"), (MAX_SKIP, f"may not exceed {MAX_SKIP}")
        ),
    )


def limit_param(raw: str | None, default: int, maximum: int) -> int:
    """A ``limit`` query parameter between 1 and ``maximum``; a bad value is a 400."""
    between = f"must be between 1 and {maximum}"
    return _parse_int("limit", raw, default, (1, between), (maximum, between))


def _parse_int(
    name: str, raw: str | None, default: int, low: tuple[int, str], high: tuple[int, str]
) -> int:
    """``raw`` as an integer within ``low`` and ``high`` (each a bound and the message that
    refuses a value beyond it)."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)  # past 4,300 digits a ValueError too
    except ValueError:
        raise BadRequest(f"The {name} parameter must be an integer.") from None
    if value < low[0]:
        raise BadRequest(f"The {name} parameter {low[1]}.")
    if value > high[0]:
        raise BadRequest(f"The {name} parameter {high[1]}.")
    return value


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="The items of this page.")
    totalCount: int = Field(description="Number of items matching the query, over all pages.")
    limit: int = Field(description="Items per page.")
    skip: int = Field(description="Items skipped before this page.")


class CursorPage(BaseModel, Generic[T]):
    items: list[T] = Field(description="The items of this page.")
    nextCursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def paginate(session: Session, query: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Run ``query`` for one page and count all matches. ``query`` must be ordered."""
    total = session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = list(session.execute(query.limit(params.limit).offset(params.skip)).scalars())
    return rows, total
