"""Operator accounts: creating them, granting stores, and checking a sign-in (argon2id
hashes, a lock-out after repeated failures, a per-address rate limit). Services only flush;
the caller's transaction commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.exceptions import Conflict, NotFound, ValidationFailed
from cartwheel.identity.addresses import normalize_email
from cartwheel.models import LoginAttempt, Operator, OperatorGrant
from cartwheel.models.base import utcnow
from cartwheel.stores import service as stores

_hasher = PasswordHasher()
#: Verified against when the email names nobody, so both answers take as long.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

MIN_PASSWORD = 12
MAX_PASSWORD = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        message = f"The password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters."
        raise ValidationFailed({"password": [message]}, message)


def _email(raw: str) -> str:
    email = normalize_email(raw)
    if email is None or "@" not in email or len(email) > 320:
        message = "Give the operator's email address."
        raise ValidationFailed({"email": [message]}, message)
    return email


def create_operator(session: Session, email: str, password: str, store_ids: list[int]) -> Operator:
    """A new operator with these stores granted (each must exist)."""
    email = _email(email)
    check_password(password)
    if by_email(session, email) is not None:
        raise Conflict(f"An operator with the email {email} exists.")
    row = Operator(email=email, password_hash=hash_password(password), failed_logins=0)
    session.add(row)
    session.flush()
    grant(session, email, store_ids)
    return row


def grant(session: Session, email: str, store_ids: list[int]) -> Operator:
    """Grant the operator these stores (those already granted stay as they are)."""
    operator = _get(session, email)
    for store_id in store_ids:
        stores.get_store(session, store_id)  # 404 for a store that does not exist
    held = set(granted_store_ids(session, operator.id))
    for store_id in dict.fromkeys(store_ids):
        if store_id not in held:
            session.add(OperatorGrant(operator_id=operator.id, store_id=store_id))
    session.flush()
    return operator


def revoke(session: Session, email: str, store_ids: list[int]) -> Operator:
    """Take these stores away from the operator."""
    operator = _get(session, email)
    session.execute(
        delete(OperatorGrant).where(
            OperatorGrant.operator_id == operator.id, OperatorGrant.store_id.in_(store_ids)
        )
    )
    return operator


def set_password(session: Session, email: str, password: str) -> Operator:
    """A new password; it also lifts a lock-out."""
    operator = _get(session, email)
    check_password(password)
    operator.password_hash = hash_password(password)
    operator.failed_logins = 0
    operator.locked_until = None
    session.flush()
    return operator


def list_operators(session: Session) -> list[tuple[Operator, list[int]]]:
    operators = list(session.execute(select(Operator).order_by(Operator.id)).scalars())
    grants: dict[int, list[int]] = {}
    for operator_id, store_id in session.execute(
        select(OperatorGrant.operator_id, OperatorGrant.store_id).order_by(OperatorGrant.store_id)
    ):
        grants.setdefault(operator_id, []).append(store_id)
    return [(o, grants.get(o.id, [])) for o in operators]


def by_email(session: Session, email: str) -> Operator | None:
    normalized = normalize_email(email)
    if normalized is None:
        return None
    found: Operator | None = session.execute(
        select(Operator).where(Operator.email == normalized)
    ).scalar_one_or_none()
    return found


def _get(session: Session, email: str) -> Operator:
    operator = by_email(session, email)
    if operator is None:
        raise NotFound(f"No operator has the email {email}.")
    return operator


def granted_store_ids(session: Session, operator_id: int) -> list[int]:
    return list(
        session.execute(
            select(OperatorGrant.store_id)
            .where(OperatorGrant.operator_id == operator_id)
            .order_by(OperatorGrant.store_id)
        ).scalars()
    )


# -- signing in --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a sign-in was refused, in words for the sign-in page, and its HTTP status."""

    message: str
    status: int = 401


WRONG = Refused("The email or the password is wrong.")


def address_limited(
    session: Session, address: str, settings: Settings, now: datetime | None = None
) -> Refused | None:
    """Too many attempts from this client address within the window?"""
    now = now or utcnow()
    since = now - timedelta(minutes=settings.admin_login_window_minutes)
    recent = session.execute(
        select(func.count()).where(
            LoginAttempt.address == address[:64], LoginAttempt.attempted_at >= since
        )
    ).scalar_one()
    if recent >= settings.admin_login_attempts_per_address:
        return Refused(
            "Too many sign-in attempts from this address; wait a few minutes and try again.",
            429,
        )
    return None


def verify(
    session: Session, email: str, password: str, now: datetime | None = None
) -> Operator | Refused:
    """Check a password (read only: :func:`record_attempt` writes the outcome). A locked
    account is refused before its password is checked."""
    now = now or utcnow()
    operator = by_email(session, email) if len(email) <= 320 else None
    if operator is None:
        _verify_hash(_DUMMY_HASH, password)
        return WRONG
    if operator.locked_until is not None and operator.locked_until > now:
        return Refused(
            "This account is locked after repeated failed sign-ins; try again later.", 423
        )
    return operator if _verify_hash(operator.password_hash, password) else WRONG


def _verify_hash(hashed: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def record_attempt(
    session: Session,
    email: str,
    address: str,
    operator_id: int | None,
    succeeded: bool,
    settings: Settings,
    now: datetime | None = None,
) -> None:
    """Write a sign-in's outcome: the attempt, and on the account the failure count (locking
    it at the limit) or, on success, a fresh count and the time."""
    now = now or utcnow()
    session.add(
        LoginAttempt(email=email[:320], address=address[:64], succeeded=succeeded, attempted_at=now)
    )
    operator = session.get(Operator, operator_id, with_for_update=True) if operator_id else None
    if operator is not None:
        if succeeded:
            operator.failed_logins = 0
            operator.locked_until = None
            operator.last_login_at = now
        elif operator.locked_until is None or operator.locked_until <= now:
            operator.failed_logins += 1
            if operator.failed_logins >= settings.admin_lockout_failures:
                operator.locked_until = now + timedelta(minutes=settings.admin_lockout_minutes)
                operator.failed_logins = 0
    # The record of attempts is for the rate limit: what is older than a day is dropped.
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - timedelta(days=1)))
    session.flush()
