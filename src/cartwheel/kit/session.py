"""Request-scoped database sessions for (sync) endpoints.

``write_session`` commits when the endpoint returns without error (the one place a request's
transaction commits); ``read_session`` never writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cartwheel.kit.app import app_context


def read_session(request: Request) -> Iterator[Session]:
    with app_context(request).db.read() as session:
        yield session


def write_session(request: Request) -> Iterator[Session]:
    with app_context(request).db.transaction() as session:
        yield session


# scope="function": the transaction ends (commits or rolls back) when the endpoint returns,
# before the response is sent, so a 2xx always means committed.
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
