"""Member, member group and sign-on token queries, always scoped by store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartwheel.contacts import repository as contacts
from cartwheel.kit.requests import is_id
from cartwheel.models import (
    Member,
    MemberGroup,
    MemberGroupMember,
    MemberSsoKey,
    MemberSsoToken,
)

# -- members -------------------------------------------------------------------------------


def store_members(store_id: int, group_id: int | None = None) -> Select[Any]:
    query = select(Member).where(Member.store_id == store_id)
    if group_id is not None:
        in_group = select(MemberGroupMember.member_id).where(MemberGroupMember.group_id == group_id)
        query = query.where(Member.id.in_(in_group))
    return query.order_by(Member.id)


def get(session: Session, store_id: int, member_id: int) -> Member | None:
    if not is_id(member_id):
        return None
    row = session.get(Member, member_id)
    if row is None or row.store_id != store_id:
        return None
    return row


def by_email(session: Session, store_id: int, email: str) -> Member | None:
    found: Member | None = session.execute(
        select(Member).where(Member.store_id == store_id, Member.email == email)
    ).scalar_one_or_none()
    return found


def group_ids_by_member(session: Session, member_ids: list[int]) -> dict[int, list[int]]:
    if not member_ids:
        return {}
    rows = session.execute(
        select(MemberGroupMember.member_id, MemberGroupMember.group_id)
        .where(MemberGroupMember.member_id.in_(member_ids))
        .order_by(MemberGroupMember.group_id)
    )
    out: dict[int, list[int]] = {}
    for member_id, group_id in rows:
        out.setdefault(member_id, []).append(group_id)
    return out


def set_groups(session: Session, member_id: int, group_ids: set[int]) -> bool:
    """Make the member's groups exactly ``group_ids``; True if that changed anything."""
    current = set(group_ids_by_member(session, [member_id]).get(member_id, []))
    if current == group_ids:
        return False
    if current - group_ids:
        session.execute(
            delete(MemberGroupMember).where(
                MemberGroupMember.member_id == member_id,
                MemberGroupMember.group_id.in_(current - group_ids),
            )
        )
    contacts.insert_missing(
        session,
        MemberGroupMember,
        [{"member_id": member_id, "group_id": g} for g in sorted(group_ids - current)],
    )
    return True


# -- groups --------------------------------------------------------------------------------


def store_groups(store_id: int) -> Select[Any]:
    return select(MemberGroup).where(MemberGroup.store_id == store_id).order_by(MemberGroup.id)


def get_group(session: Session, store_id: int, group_id: int) -> MemberGroup | None:
    if not is_id(group_id):
        return None
    row = session.get(MemberGroup, group_id)
    if row is None or row.store_id != store_id:
        return None
    return row


def existing_group_ids(session: Session, store_id: int, group_ids: set[int]) -> set[int]:
    if not group_ids:
        return set()
    query = select(MemberGroup.id).where(
        MemberGroup.store_id == store_id, MemberGroup.id.in_(group_ids)
    )
    return set(session.execute(query).scalars())


def delete_group(session: Session, group_id: int) -> None:
    session.execute(delete(MemberGroupMember).where(MemberGroupMember.group_id == group_id))
    session.execute(delete(MemberGroup).where(MemberGroup.id == group_id))


# -- single sign-on tokens -----------------------------------------------------------------


def token_by_hash(session: Session, token_hash: str) -> MemberSsoToken | None:
    found: MemberSsoToken | None = session.execute(
        select(MemberSsoToken).where(MemberSsoToken.token_hash == token_hash)
    ).scalar_one_or_none()
    return found


def use_token(session: Session, token_id: int, now: datetime) -> bool:
    """Mark the token used if it is still unused and unexpired. The conditional UPDATE is
    what makes a token single-use even when two redemptions race."""
    result = session.execute(
        update(MemberSsoToken)
        .where(
            MemberSsoToken.id == token_id,
            MemberSsoToken.used_at.is_(None),
            MemberSsoToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def sso_key(session: Session, store_id: int) -> str | None:
    row = session.get(MemberSsoKey, store_id)
    return None if row is None else row.secret


def add_sso_key(session: Session, store_id: int, secret: str) -> bool:
    """Store the store's signing key; False if another request stored one first."""
    try:
        with session.begin_nested():
            session.add(MemberSsoKey(store_id=store_id, secret=secret))
    except IntegrityError:
        return False
    return True
