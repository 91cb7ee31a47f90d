"""The audit log: sensitive actions of the back office (revoking a key, undoing a merge,
replaying deliveries, deleting a segment…), who took them and when. Written in the
transaction that makes the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartwheel.admin.sessions import SignedIn
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import AuditEntry
from cartwheel.models.base import utcnow


def record(
    session: Session,
    who: SignedIn,
    store_id: int | None,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        store_id=store_id,
        operator_id=who.operator_id,
        operator_email=who.email,
        action=action,
        target=target[:300],
        detail=detail or {},
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, store_id: int, page: PageParams) -> tuple[list[AuditEntry], int]:
    """A store's audit log, newest first."""
    query = select(AuditEntry).where(AuditEntry.store_id == store_id).order_by(AuditEntry.id.desc())
    return paginate(session, query, page)
