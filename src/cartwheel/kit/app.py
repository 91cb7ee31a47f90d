"""What kit's request helpers need from the running app, as a protocol.

kit knows no domain and not the runtime: it reaches the database and the body limit through
the app's state (``app.state.runtime``, set by ``create_app``), typed by what it uses. The
runtime satisfies this protocol; kit never imports it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, cast

from sqlalchemy.orm import Session
from starlette.requests import Request


class _Settings(Protocol):
    @property
    def max_body_bytes(self) -> int: ...


class _Database(Protocol):
    def read(self) -> AbstractContextManager[Session]: ...

    def transaction(self) -> AbstractContextManager[Session]: ...


class AppContext(Protocol):
    @property
    def settings(self) -> _Settings: ...

    @property
    def db(self) -> _Database: ...


def app_context(request: Request) -> AppContext:
    return cast(AppContext, request.app.state.runtime)
