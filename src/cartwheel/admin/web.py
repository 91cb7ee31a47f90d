"""What every back-office page shares: the router whose errors are HTML pages, the
templates, the signed-in operator and the store in scope (the tenancy rule: a store the
operator was not granted is a 404, like one that does not exist), and CSRF-checked forms."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from cartwheel.admin import csrf, sessions
from cartwheel.admin.csrf import Form
from cartwheel.admin.sessions import SignedIn
from cartwheel.exceptions import AppError, NotFound, ValidationFailed
from cartwheel.kit.ids import MAX_ID
from cartwheel.kit.pagination import PageParams
from cartwheel.models import Store
from cartwheel.runtime import Runtime
from cartwheel.stores import service as stores

STATIC = Path(__file__).parent / "static"

#: Sent with every page: scripts only from this site (no inline script, no eval), no
#: framing, forms only to this site.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Redirect(AppError):
    """Answer with a redirect (303: the browser follows it with a GET)."""

    status_code = 303
    title = "See Other"

    def __init__(self, location: str) -> None:
        super().__init__("Redirecting.", headers={"Location": location})


def _datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "—"


def _timestamp(value: int | None) -> str:
    if value is None:
        return "—"
    return _datetime(datetime.fromtimestamp(value, UTC))


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _script_json(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block: ``<`` escaped, so no value can
    close the element."""
    text = json.dumps(value, default=str).replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text.replace("&", "\\u0026"))


templates = Environment(
    loader=PackageLoader("cartwheel.admin", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["dt"] = _datetime
templates.filters["ts"] = _timestamp
templates.filters["pretty"] = _pretty
templates.filters["compact"] = _compact
templates.filters["script_json"] = _script_json
templates.filters["urlquote"] = lambda value: quote(str(value), safe="")


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    page = templates.get_template(name).render(request=request, **context)
    return HTMLResponse(page, status_code=status_code)


def render_error(request: Request, exc: AppError) -> Response:
    if isinstance(exc, Redirect):
        response: Response = Response(status_code=303)
    else:
        messages = [exc.message]
        if isinstance(exc, ValidationFailed):
            messages = [m for values in exc.errors.values() for m in values]
        response = render(
            request,
            "error.html",
            {"status": exc.status_code, "title": exc.title, "messages": messages},
            exc.status_code,
        )
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


class AdminRoute(APIRoute):
    """Errors as HTML pages, the security headers, and ``Server-Timing: app;dur=…`` (the
    server's time for the page, dependencies included: what bench/admin.py reads)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            started = time.perf_counter()
            try:
                response = await handler(request)
            except AppError as exc:
                response = render_error(request, exc)
            except RequestValidationError:
                response = render_error(request, NotFound("Page not found."))
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            spent = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"app;dur={spent:.1f}"
            return response

        return route_handler


def admin_router() -> APIRouter:
    return APIRouter(route_class=AdminRoute, include_in_schema=False)


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


def path_id(raw: str) -> int:
    """A path id: ASCII digits naming a possible row, else a 404 (never a query)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID:
        raise NotFound("Page not found.")
    return int(raw)


#: The deepest page offset a list page accepts.
MAX_SKIP = 1_000_000


def page_skip(skip: int) -> int:
    """A list page's ``skip`` query parameter, kept within 0 … :data:`MAX_SKIP`."""
    return max(0, min(skip, MAX_SKIP))


# -- who is asking -------------------------------------------------------------------------


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/admin/login?next={quote(target, safe='')}"


def optional_operator(request: Request) -> SignedIn | None:
    with runtime(request).db.read() as session:
        return sessions.find(session, request.cookies.get(sessions.COOKIE))


class SignInAgain(AppError):
    """An HTMX request of an ended session: the page, not the fragment, goes to sign in."""

    status_code = 401
    title = "Unauthorized"

    def __init__(self, location: str) -> None:
        super().__init__("Sign in again.", headers={"HX-Redirect": location})


def signed_in(request: Request) -> SignedIn:
    """The signed-in operator; anyone else is sent to the sign-in page."""
    who = optional_operator(request)
    if who is None:
        if request.headers.get("hx-request") == "true":
            raise SignInAgain(login_url(request))
        raise Redirect(login_url(request))
    return who


Operator = Annotated[SignedIn, Depends(signed_in)]


@dataclass(frozen=True)
class Scope:
    """A page of one store: the operator, the store, and the other stores they may see."""

    who: SignedIn
    store: Store
    stores: list[Store]

    @property
    def store_id(self) -> int:
        return self.store.id

    @property
    def base(self) -> str:
        return f"/admin/stores/{self.store.id}"

    def context(self, **values: Any) -> dict[str, Any]:
        return {"scope": self, "who": self.who, "csrf": self.who.csrf, **values}


#: A store's rows for one list page: ``(rows, total)``.
Lister = Callable[[Any, int, PageParams], tuple[list[Any], int]]


def list_page(
    request: Request,
    scope: Scope,
    skip: int,
    lister: Lister,
    template: str,
    *,
    limit: int,
    **context: Any,
) -> HTMLResponse:
    """A paginated list page: the ``lister``'s page of the store's rows at ``skip`` (kept in
    range), rendered with ``rows``, ``total``, ``skip`` and ``limit``."""
    skip = page_skip(skip)
    with runtime(request).db.read() as session:
        rows, total = lister(session, scope.store_id, PageParams(limit=limit, skip=skip))
    return render(
        request,
        template,
        scope.context(rows=rows, total=total, skip=skip, limit=limit, **context),
    )


def store_scope(store_id: str, request: Request, who: Operator) -> Scope:
    """The store in the URL, if the operator was granted it; otherwise 404."""
    sid = path_id(store_id)
    if sid not in who.store_ids:
        raise NotFound("Page not found.")
    with runtime(request).db.read() as session:
        granted = stores.stores_by_id(session, sorted(who.store_ids))
    store = next((s for s in granted if s.id == sid), None)
    if store is None:
        raise NotFound("Page not found.")
    return Scope(who, store, granted)


Scoped = Annotated[Scope, Depends(store_scope)]


async def form(request: Request) -> Form:
    return await csrf.read_form(request)


@dataclass(frozen=True)
class Posted:
    """A form sent to a store's page, its CSRF token checked."""

    scope: Scope
    form: Form

    def confirmed(self) -> bool:
        return self.form.get("confirm") == "yes"


def posted(scope: Scoped, sent: Annotated[Form, Depends(form)]) -> Posted:
    csrf.require(sent, scope.who.csrf)
    return Posted(scope, sent)


Post = Annotated[Posted, Depends(posted)]


def confirm_page(
    request: Request, posted: Posted, title: str, message: str, button: str
) -> HTMLResponse:
    """Ask before a sensitive action: the same form again, with ``confirm=yes``."""
    keep = {k: v for k, v in posted.form.fields.items() if k not in (csrf.FIELD, "confirm")}
    return render(
        request,
        "confirm.html",
        posted.scope.context(
            title=title,
            message=message,
            button=button,
            action=request.url.path,
            fields=keep,
            back=_back(request, posted.scope.base),
        ),
    )


def _back(request: Request, default: str) -> str:
    """Where "Cancel" goes: the page the form was on (its path, if it is ours)."""
    path = urlsplit(request.headers.get("referer") or "").path
    return path if path.startswith("/admin/") else default


def see(location: str) -> Response:
    return Response(status_code=303, headers={"Location": location})
