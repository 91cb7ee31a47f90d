"""Members, member groups and single sign-on in the store data API. Everything takes the
store's secret key except the redemption of a sign-on token, which the member's browser
reaches through the access URL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Response

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.exceptions import Unauthorized
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.requests import JsonObject, int_param, text_param, validate
from cartwheel.kit.session import ReadSession, WriteSession
from cartwheel.members import service
from cartwheel.members.schemas import (
    GROUP_REQUEST_EXAMPLE,
    MEMBER_REQUEST_EXAMPLE,
    SSO_REQUEST_EXAMPLE,
    Member,
    MemberCreate,
    MemberGroup,
    MemberGroupCreate,
    MemberGroupUpdate,
    MemberUpdate,
    SsoRequest,
    SsoSession,
    SsoToken,
)
from cartwheel.models.base import utcnow
from cartwheel.runtime import Runtime, get_runtime

router = native_router(prefix="/v1", responses=ERROR_RESPONSES)

Pagination = Annotated[PageParams, Depends(page_params)]
MEMBER_EXAMPLES = {"member": {"summary": "A member", "value": MEMBER_REQUEST_EXAMPLE}}
GROUP_EXAMPLES = {"group": {"summary": "A group", "value": GROUP_REQUEST_EXAMPLE}}
CONFLICT = {409: {"model": ErrorResponse, "description": "A member has this email already"}}
FORBIDDEN = {403: {"model": ErrorResponse, "description": "The member is not approved"}}


def clock() -> datetime:
    """The current time (a dependency, so tests can move it)."""
    return utcnow()


Now = Annotated[datetime, Depends(clock)]


@router.get("/members", response_model=Page[Member] | Member, tags=["members"])
def list_members(
    store: SecretKeyStore,
    session: ReadSession,
    page: Pagination,
    groupId: Annotated[
        str | None,
        Query(description="List only members in the specified group (integer). Example: 12."),
    ] = None,
    email: Annotated[
        str | None,
        Query(
            description="Find the member with this email address: the answer is that member, "
            "not a page, or a 404. Example: john@doe.com."
        ),
    ] = None,
) -> Page[Member] | Member:
    """Get a paginated list of all members in your website, optionally filtered by group id.
    With `email`, find the member with that email address instead."""
    group_id, email = int_param("groupId", groupId), text_param("email", email)
    # As for contacts: `email` is the document's separate "find by email" operation.
    if email is not None:
        return service.find_by_email(session, store.store_id, email)
    items, total = service.list_members(session, store.store_id, page, group_id)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/members",
    response_model=Member,
    status_code=201,
    tags=["members"],
    responses=CONFLICT,
    openapi_extra=json_body(MemberCreate, examples=MEMBER_EXAMPLES),
)
def create_member(store: SecretKeyStore, body: JsonObject, session: WriteSession) -> Member:
    """Create a new member. If a password is provided, the member is created with that
    password. Otherwise the member is created with a random password and a password-reset
    email is sent to the member."""
    return service.create_member(session, store.store_id, validate(MemberCreate, body))


@router.post(
    "/members/sso",
    response_model=SsoToken,
    tags=["single sign-on"],
    responses=FORBIDDEN,
    openapi_extra=json_body(
        SsoRequest, examples={"sso": {"summary": "Sign a member on", "value": SSO_REQUEST_EXAMPLE}}
    ),
)
def sign_on(
    store: SecretKeyStore,
    body: JsonObject,
    session: WriteSession,
    now: Now,
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> SsoToken:
    """Single sign-on: call this from your backend for a member you have authenticated, and
    redirect the member to the `accessUrl` of the answer. Optionally pass `path` to direct
    the member to a specific page. The token is valid for 15 minutes and works once."""
    return service.issue_sso(
        session,
        store.store_id,
        validate(SsoRequest, body),
        now=now,
        base_url=runtime.settings.sso_base_url,
    )


# Declared before /members/{member_id}; it takes no API key because the member's browser,
# not the store's backend, follows the access URL. A GET, as a redirect target must be.
@router.get(
    "/members/sso/redeem",
    response_model=SsoSession,
    tags=["single sign-on"],
    responses=FORBIDDEN,
)
def redeem_sign_on(
    session: WriteSession,
    now: Now,
    token: Annotated[str | None, Query(description="The token of the sign-on.")] = None,
) -> SsoSession:
    """Redeem a sign-on token (the `accessUrl`; no API key): answers the signed-on member
    and the page to show. A token works once and for 15 minutes; any other use is a 401."""
    if not token:
        raise Unauthorized(service.INVALID_TOKEN)
    return service.redeem_sso(session, token, now=now)


@router.get("/members/{member_id}", response_model=Member, tags=["members"])
def get_member(member_id: int, store: SecretKeyStore, session: ReadSession) -> Member:
    """Get a single member."""
    return service.read_member(session, store.store_id, member_id)


@router.put(
    "/members/{member_id}",
    response_model=Member,
    tags=["members"],
    responses=CONFLICT,
    openapi_extra=json_body(MemberUpdate, examples=MEMBER_EXAMPLES),
)
def update_member(
    member_id: int, store: SecretKeyStore, body: JsonObject, session: WriteSession
) -> Member:
    """Update a single member. Only non-empty fields are set. The member password will NOT
    be updated."""
    data = validate(MemberUpdate, body)
    return service.update_member(session, store.store_id, member_id, data)


@router.get("/member-groups", response_model=Page[MemberGroup], tags=["member groups"])
def list_groups(store: SecretKeyStore, session: ReadSession, page: Pagination) -> Page[MemberGroup]:
    """Get a paginated list of the member groups."""
    items, total = service.list_groups(session, store.store_id, page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/member-groups",
    response_model=MemberGroup,
    status_code=201,
    tags=["member groups"],
    openapi_extra=json_body(MemberGroupCreate, examples=GROUP_EXAMPLES),
)
def create_group(store: SecretKeyStore, body: JsonObject, session: WriteSession) -> MemberGroup:
    """Create a member group. Access to resources can be restricted to specific member
    groups only."""
    return service.create_group(session, store.store_id, validate(MemberGroupCreate, body))


@router.get("/member-groups/{group_id}", response_model=MemberGroup, tags=["member groups"])
def get_group(group_id: int, store: SecretKeyStore, session: ReadSession) -> MemberGroup:
    """Get a single member group."""
    return service.read_group(session, store.store_id, group_id)


@router.put(
    "/member-groups/{group_id}",
    response_model=MemberGroup,
    tags=["member groups"],
    openapi_extra=json_body(MemberGroupUpdate, examples=GROUP_EXAMPLES),
)
def update_group(
    group_id: int, store: SecretKeyStore, body: JsonObject, session: WriteSession
) -> MemberGroup:
    """Update a member group."""
    data = validate(MemberGroupUpdate, body)
    return service.update_group(session, store.store_id, group_id, data)


@router.delete(
    "/member-groups/{group_id}",
    status_code=204,
    response_class=Response,
    tags=["member groups"],
)
def delete_group(group_id: int, store: SecretKeyStore, session: WriteSession) -> Response:
    """Delete a member group. Its members stay; they only leave the group."""
    service.delete_group(session, store.store_id, group_id)
    return Response(status_code=204)
