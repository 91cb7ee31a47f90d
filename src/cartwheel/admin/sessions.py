"""Signed-in browsers: a random token in an ``HttpOnly``, ``SameSite=Lax`` cookie (``Secure``
when the request came over HTTPS), its SHA-256 digest in ``operator_sessions`` with the
session's CSRF token. A session ends at sign-out or after ``CARTWHEEL_ADMIN_SESSION_HOURS``."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from cartwheel.admin import accounts
from cartwheel.models import Operator, OperatorSession
from cartwheel.models.base import utcnow

COOKIE = "cartwheel_admin"
PATH = "/admin"
#: Cookie names and values are ASCII; anything longer than a token is not one.
_MAX_TOKEN = 100


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The operator behind a request, the stores they may see and their CSRF token."""

    operator_id: int
    email: str
    store_ids: frozenset[int]
    csrf: str
    session_id: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start(session: Session, operator: Operator, hours: float) -> str:
    """A new session for ``operator``; returns the token for the cookie (shown only here)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        OperatorSession(
            id=digest(token),
            operator_id=operator.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    # Ended sessions of anyone are dropped as new ones start.
    session.execute(delete(OperatorSession).where(OperatorSession.expires_at < now))
    session.flush()
    return token


def find(session: Session, token: str | None, now: datetime | None = None) -> SignedIn | None:
    """The live session a cookie names, or None."""
    if not token or len(token) > _MAX_TOKEN or not token.isascii():
        return None
    row = session.get(OperatorSession, digest(token))
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    operator = session.get(Operator, row.operator_id)
    if operator is None:
        return None
    stores = frozenset(accounts.granted_store_ids(session, operator.id))
    return SignedIn(operator.id, operator.email, stores, row.csrf_token, row.id)


def end(session: Session, session_id: str) -> None:
    session.execute(delete(OperatorSession).where(OperatorSession.id == session_id))


def secure(request: Request) -> bool:
    """Served over HTTPS (directly, or behind a proxy uvicorn trusts for the scheme)?"""
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, token: str, hours: float) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(hours * 3600),
        path=PATH,
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="lax", secure=secure(request))
