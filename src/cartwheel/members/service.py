"""Members, member groups and single sign-on.

A member is linked to the contact that owns its email (created if need be), so the
contact shows ``memberId``; linking emits ``contact_updated``. Passwords are argon2 hashes
and never leave this module."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartwheel.auth.tokens import digest
from cartwheel.contacts import service as contacts
from cartwheel.exceptions import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from cartwheel.identity.addresses import normalize_email
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.kit.requests import is_id, to_unix
from cartwheel.members import repository, tokens
from cartwheel.members.schemas import (
    ADDRESS_FIELDS,
    Address,
    Member,
    MemberCreate,
    MemberGroup,
    MemberGroupCreate,
    MemberGroupUpdate,
    MemberUpdate,
    SsoRequest,
    SsoSession,
    SsoToken,
    group_view,
    member_view,
)
from cartwheel.models import Member as MemberRow
from cartwheel.models import MemberGroup as GroupRow
from cartwheel.models import MemberSsoToken
from cartwheel.models.base import utcnow
from cartwheel.outbox import emit

#: Asks for the password-reset email of a member created without a password.
MEMBER_PASSWORD_RESET = "member_password_reset"
SSO_LIFETIME = timedelta(minutes=15)
EMAIL_TAKEN = "A member with this email already exists."
INVALID_TOKEN = "The sign-on token is invalid."


# -- members -------------------------------------------------------------------------------


def get_member(session: Session, store_id: int, member_id: int) -> MemberRow:
    row = repository.get(session, store_id, member_id)
    if row is None:
        raise NotFound("Member not found.")
    return row


def views(session: Session, rows: list[MemberRow]) -> list[Member]:
    groups = repository.group_ids_by_member(session, [r.id for r in rows])
    return [member_view(r, groups.get(r.id, [])) for r in rows]


def view(session: Session, row: MemberRow) -> Member:
    return views(session, [row])[0]


def list_members(
    session: Session, store_id: int, page: PageParams, group_id: int | None
) -> tuple[list[Member], int]:
    rows, total = paginate(session, repository.store_members(store_id, group_id), page)
    return views(session, rows), total


def find_by_email(session: Session, store_id: int, email: str) -> Member:
    normalized = normalize_email(email)
    row = repository.by_email(session, store_id, normalized) if normalized else None
    if row is None:
        raise NotFound("Member not found.")
    return view(session, row)


def read_member(session: Session, store_id: int, member_id: int) -> Member:
    return view(session, get_member(session, store_id, member_id))


def create_member(session: Session, store_id: int, data: MemberCreate) -> Member:
    email = _email(data.email)
    if repository.by_email(session, store_id, email) is not None:
        raise Conflict(EMAIL_TAKEN)
    group_ids = _groups(session, store_id, data.groups or [])
    # The groups are checked before anything is written, so a refusal leaves no contact.
    contact, _ = contacts.upsert_person(
        session, store_id, email, {"name": data.name}, source="member"
    )
    now = utcnow()
    row = MemberRow(
        store_id=store_id,
        contact_id=contact.id,
        name=data.name,
        email=email,
        # No password: the member has none that works until the reset email is used, which
        # is what "a random password is set" amounts to (no one knows it).
        password_hash=tokens.hash_password(data.password) if data.password else None,
        approved=True if data.approved is None else data.approved,
        billing_address=_address({}, data.billingAddress),
        shipping_address=_address({}, data.shippingAddress),
        created_at=now,
        updated_at=now,
    )
    _insert(session, row)
    repository.set_groups(session, row.id, group_ids)
    if data.password is None:
        emit(session, store_id, MEMBER_PASSWORD_RESET, {"member_id": row.id, "email": email})
    contacts.emit_updated(session, contact)  # it now shows memberId
    return view(session, row)


def update_member(session: Session, store_id: int, member_id: int, data: MemberUpdate) -> Member:
    """Only non-empty fields are set; the password is never changed here."""
    row = get_member(session, store_id, member_id)
    if data.groups:
        repository.set_groups(session, row.id, _groups(session, store_id, data.groups))
    if data.name:
        row.name = data.name
    if data.approved is not None:
        row.approved = data.approved
    if data.billingAddress is not None:
        row.billing_address = _address(row.billing_address, data.billingAddress)
    if data.shippingAddress is not None:
        row.shipping_address = _address(row.shipping_address, data.shippingAddress)
    email = _email(data.email)
    if email != row.email:
        _change_email(session, row, email)
    row.updated_at = utcnow()
    session.flush()
    return view(session, row)


def _change_email(session: Session, row: MemberRow, email: str) -> None:
    """A new email is a new login: the member moves to the contact that owns it."""
    if repository.by_email(session, row.store_id, email) is not None:
        raise Conflict(EMAIL_TAKEN)
    previous = row.contact_id
    contact, _ = contacts.upsert_person(session, row.store_id, email, {}, source="member")
    row.email = email
    row.contact_id = contact.id
    session.flush()
    if previous is not None and previous != contact.id:
        contacts.emit_updated(session, contacts.get_contact(session, row.store_id, previous))
    contacts.emit_updated(session, contact)


def _insert(session: Session, row: MemberRow) -> None:
    # The unique (store, email) constraint settles two concurrent creations.
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(EMAIL_TAKEN) from None


def _groups(session: Session, store_id: int, group_ids: list[int]) -> set[int]:
    wanted = {g for g in group_ids if g != 0}  # 0 is the document's "no group"
    missing = sorted(wanted - repository.existing_group_ids(session, store_id, wanted))
    if missing:
        raise ValidationFailed(
            {"groups": [f"The member group {g} does not exist." for g in missing]}
        )
    return wanted


def _address(stored: dict[str, Any] | None, given: Address | None) -> dict[str, Any] | None:
    """``stored`` with the non-empty fields of ``given`` set; None when nothing is left."""
    merged = dict(stored or {})
    if given is not None:
        for key in ADDRESS_FIELDS:
            value = getattr(given, key)
            if value:
                merged[key] = value
    return merged or None


def _email(raw: str) -> str:
    email = normalize_email(raw)
    if email is None:
        raise ValidationFailed({"email": ["The email field is required."]})
    return email


# -- single sign-on ------------------------------------------------------------------------


def issue_sso(
    session: Session, store_id: int, data: SsoRequest, *, now: datetime, base_url: str
) -> SsoToken:
    """A signed, single-use token (valid 15 minutes) and the URL that redeems it."""
    email = _email(data.email)
    member = repository.by_email(session, store_id, email)
    if member is None:
        raise NotFound("Member not found.")
    if not member.approved:
        raise Forbidden("The member is not approved.")
    expires = now + SSO_LIFETIME
    claims = {"sid": store_id, "sub": member.id, "iat": to_unix(now), "exp": to_unix(expires)}
    token = tokens.sign(claims, _signing_key(session, store_id))
    session.add(
        MemberSsoToken(
            store_id=store_id,
            member_id=member.id,
            token_hash=digest(token),
            path=data.path,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    return SsoToken(
        token=token,
        createdAt=to_unix(now),
        expiresAt=to_unix(expires),
        accessUrl=f"{base_url.rstrip('/')}/v1/members/sso/redeem?token={token}",
    )


def redeem_sso(session: Session, token: str, *, now: datetime) -> SsoSession:
    """Spend a sign-on token: who it signs on and where to send them. Every refusal is a
    401; a second use of the same token is refused."""
    store_id = _claimed_store(token)
    key = repository.sso_key(session, store_id) if store_id is not None else None
    if key is None or not tokens.verify(token, key):
        raise Unauthorized(INVALID_TOKEN)
    row = repository.token_by_hash(session, digest(token))
    if row is None or row.store_id != store_id:
        raise Unauthorized(INVALID_TOKEN)
    # Expiry is checked against the row, not the claims: the row is what we issued.
    if row.expires_at <= now:
        raise Unauthorized("The sign-on token has expired.")
    if row.used_at is not None or not repository.use_token(session, row.id, now):
        raise Unauthorized("The sign-on token has already been used.")
    member = get_member(session, row.store_id, row.member_id)
    # Approval can be withdrawn during the token's 15 minutes.
    if not member.approved:
        raise Forbidden("The member is not approved.")
    return SsoSession(member=view(session, member), path=row.path)


def _claimed_store(token: str) -> int | None:
    claims = tokens.unverified_claims(token) or {}
    store_id = claims.get("sid")
    if isinstance(store_id, int) and not isinstance(store_id, bool) and is_id(store_id):
        return store_id
    return None


def _signing_key(session: Session, store_id: int) -> str:
    key = repository.sso_key(session, store_id)
    if key is None:
        repository.add_sso_key(session, store_id, tokens.new_key())
        key = repository.sso_key(session, store_id)
    assert key is not None
    return key


# -- member groups -------------------------------------------------------------------------


def get_group(session: Session, store_id: int, group_id: int) -> GroupRow:
    row = repository.get_group(session, store_id, group_id)
    if row is None:
        raise NotFound("Member group not found.")
    return row


def list_groups(session: Session, store_id: int, page: PageParams) -> tuple[list[MemberGroup], int]:
    rows, total = paginate(session, repository.store_groups(store_id), page)
    return [group_view(r) for r in rows], total


def read_group(session: Session, store_id: int, group_id: int) -> MemberGroup:
    return group_view(get_group(session, store_id, group_id))


def create_group(session: Session, store_id: int, data: MemberGroupCreate) -> MemberGroup:
    now = utcnow()
    row = GroupRow(
        store_id=store_id, name=data.name, link=data.link or "", created_at=now, updated_at=now
    )
    session.add(row)
    session.flush()
    return group_view(row)


def update_group(
    session: Session, store_id: int, group_id: int, data: MemberGroupUpdate
) -> MemberGroup:
    row = get_group(session, store_id, group_id)
    row.name = data.name
    if data.link is not None:
        row.link = data.link
    row.updated_at = utcnow()
    session.flush()
    return group_view(row)


def delete_group(session: Session, store_id: int, group_id: int) -> None:
    """Delete the group; its members stay (they only leave the group)."""
    row = get_group(session, store_id, group_id)
    repository.delete_group(session, row.id)
