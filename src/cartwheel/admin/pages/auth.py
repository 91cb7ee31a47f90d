"""Signing in and out, and the list of the operator's stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse

from cartwheel.admin import accounts, csrf, sessions
from cartwheel.admin.csrf import Form
from cartwheel.admin.web import (
    Operator,
    admin_router,
    form,
    optional_operator,
    render,
    runtime,
    see,
)
from cartwheel.exceptions import Forbidden
from cartwheel.stores import service as stores

router = admin_router()


def _next(raw: str | None) -> str:
    """Only a path of the back office: never another site (an open redirect)."""
    if raw and raw.startswith("/admin") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/admin"


def _login_page(
    request: Request, next_url: str, error: str | None = None, email: str = "", status: int = 200
) -> HTMLResponse:
    token = csrf.login_token(request)
    response = render(
        request,
        "login.html",
        {"next": next_url, "error": error, "email": email, "csrf": token},
        status,
    )
    csrf.set_login_cookie(response, request, token)
    return response


@router.get("/admin/login")
def login_page(request: Request, next: str | None = None) -> Response:
    if optional_operator(request) is not None:
        return see(_next(next))
    return _login_page(request, _next(next))


@router.post("/admin/login")
def login(request: Request, sent: Annotated[Form, Depends(form)]) -> Response:
    if not csrf.same(sent.get(csrf.FIELD), request.cookies.get(csrf.LOGIN_COOKIE)):
        raise Forbidden(csrf.REFUSED)
    rt = runtime(request)
    settings = rt.settings
    email, password = sent.get("email").strip(), sent.get("password")
    next_url = _next(sent.get("next"))
    address = request.client.host if request.client else "unknown"
    with rt.db.read() as session:
        refused = accounts.address_limited(session, address, settings)
        if refused is not None:
            return _login_page(request, next_url, refused.message, email, refused.status)
        outcome = accounts.verify(session, email, password)
    refused = outcome if isinstance(outcome, accounts.Refused) else None
    with rt.db.transaction() as session:
        operator_id = None if isinstance(outcome, accounts.Refused) else outcome.id
        if operator_id is None and (found := accounts.by_email(session, email)) is not None:
            operator_id = found.id  # a wrong password counts against the account
        accounts.record_attempt(session, email, address, operator_id, refused is None, settings)
        token = None
        if not isinstance(outcome, accounts.Refused):
            token = sessions.start(session, outcome, settings.admin_session_hours)
    if refused is not None or token is None:
        assert refused is not None
        return _login_page(request, next_url, refused.message, email, refused.status)
    response = see(next_url)
    sessions.set_cookie(response, request, token, settings.admin_session_hours)
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/admin/login")
    return response


@router.post("/admin/logout")
def logout(request: Request, who: Operator, sent: Annotated[Form, Depends(form)]) -> Response:
    csrf.require(sent, who.csrf)
    with runtime(request).db.transaction() as session:
        sessions.end(session, who.session_id)
    response = see("/admin/login")
    sessions.clear_cookie(response, request)
    return response


@router.get("/admin")
def home(request: Request, who: Operator) -> Response:
    with runtime(request).db.read() as session:
        granted = stores.stores_by_id(session, sorted(who.store_ids))
    if len(granted) == 1:
        return see(f"/admin/stores/{granted[0].id}")
    return render(request, "stores.html", {"who": who, "csrf": who.csrf, "stores": granted})
