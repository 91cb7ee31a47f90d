"""``limit``/``skip`` pagination with the ``items``/``totalCount`` envelope used by every
list endpoint. Out-of-range values are a 400, never silently clamped."""

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


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    skip: int = 0


def page_params(
    limit: str | None = Query(
        default=None, description=f"Items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."
    ),
    skip: str | None = Query(default=None, description="Items to skip, 0 or more (default 0)."),
) -> PageParams:
    """Parse ``limit``/``skip`` by hand so a bad value gets this API's 400, not a 422."""
    return PageParams(
        limit=_parse_int("limit", limit, DEFAULT_LIMIT, 1, MAX_LIMIT),
        skip=_parse_int("skip", skip, 0, 0, None),
    )


def _parse_int(name: str, raw: str | None, default: int, low: int, high: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"The {name} parameter must be an integer.") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadRequest(f"The {name} parameter must be {bound}.")
    return value


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="The items of this page.")
    totalCount: int = Field(description="Number of items matching the query, over all pages.")
    limit: int = Field(description="Items per page.")
    skip: int = Field(description="Items skipped before this page.")


def paginate(session: Session, query: Select[Any], params: PageParams) -> tuple[list[Any], int]:
    """Run ``query`` for one page and count all matches. ``query`` must be ordered."""
    total = session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    rows = list(session.execute(query.limit(params.limit).offset(params.skip)).scalars())
    return rows, total
