"""Forms and their CSRF tokens.

Every form a signed-in page renders carries the session's token (``csrf``), and HTMX
requests send it as ``X-CSRF-Token`` (the page's ``hx-headers``); every state-changing
request of the back office is checked against it before anything runs. The sign-in form,
which has no session yet, uses a double-submit cookie instead: a random value set when the
page is shown, which the form must send back."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import Forbidden, PayloadTooLarge

FIELD = "csrf"
HEADER = "x-csrf-token"
LOGIN_COOKIE = "cartwheel_admin_login"
MAX_FORM_BYTES = 256 * 1024
REFUSED = "This form has expired or did not come from this site; reload the page and try again."


@dataclass(frozen=True)
class Form:
    """A urlencoded form body: every value of each field, in order."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    header_token: str | None = None

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    @property
    def token(self) -> str | None:
        return self.get(FIELD) or self.header_token


async def read_form(request: Request) -> Form:
    """The request's form fields (``application/x-www-form-urlencoded``); other bodies are
    read as empty forms, which then fail the CSRF check."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise PayloadTooLarge("The form is too large.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PayloadTooLarge("The form is too large.")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: dict[str, list[str]] = {}
    if content_type == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=2000)
        except (UnicodeDecodeError, ValueError):
            fields = {}
    return Form(fields, request.headers.get(HEADER))


def same(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def require(form: Form, expected: str) -> None:
    if not same(form.token, expected):
        raise Forbidden(REFUSED)


def login_token(request: Request) -> str:
    """The sign-in page's double-submit value: the cookie's, or a new one."""
    current = request.cookies.get(LOGIN_COOKIE)
    return current if current and len(current) <= 100 else secrets.token_urlsafe(32)


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        path="/admin/login",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
