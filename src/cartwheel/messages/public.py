"""The links in messages, answered without a key: unsubscribe (RFC 8058 one-click POST, and
a page with a button for a GET, since mail scanners prefetch links), the open pixel, tracked
clicks, and the member password-reset page."""

from __future__ import annotations

import base64
import html
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cartwheel.db import Database
from cartwheel.exceptions import BadRequest, ValidationFailed, first_message
from cartwheel.kit.body import read_json
from cartwheel.kit.errors import native_router
from cartwheel.kit.requests import validate
from cartwheel.kit.session import WriteSession
from cartwheel.members.tokens import hash_password
from cartwheel.messages import inbound, links, tracking, transactional, unsubscribe
from cartwheel.messages.schemas import PasswordReset
from cartwheel.runtime import Runtime

router = native_router(prefix="/v1", tags=["message links"])

MAX_FORM_BYTES = 16 * 1024

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem}}input{{font-size:1rem;padding:.4rem}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""
_INVALID = "This link is not valid."


def _html(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), body=body)


def _html_response(description: str, title: str, body: str) -> dict[str, Any]:
    """A page response documented with the page itself as its example."""
    return {"content": {"text/html": {"example": _html(title, body)}}, "description": description}


_UNSUBSCRIBE_FORM = (
    '<p>Stop receiving these messages?</p><form method="post">'
    '<button type="submit">Unsubscribe</button></form>'
)
_UNSUBSCRIBED = "<p>You will not receive these messages again.</p>"
_NOT_VALID = _html_response("The link is not valid", _INVALID, "")
_PIXEL_URL = "data:image/gif;base64," + base64.b64encode(tracking.PIXEL).decode("ascii")
_RESET_TITLE = "Choose your password"


def _reset_form(token: str) -> str:
    return (
        '<form method="post" action="">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        '<p><input type="password" name="password" minlength="8" maxlength="200" required '
        'autocomplete="new-password"></p><button type="submit">Set password</button></form>'
    )


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        _html(title, body),
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@router.get(
    "/unsubscribe/{token}",
    response_class=HTMLResponse,
    responses={
        200: _html_response("A button that unsubscribes", "Unsubscribe", _UNSUBSCRIBE_FORM),
        404: _NOT_VALID,
    },
)
def unsubscribe_page(token: str) -> HTMLResponse:
    """The unsubscribe page of a message's link: a button that unsubscribes (a GET changes
    nothing, since mail scanners open links)."""
    if not unsubscribe.is_valid(token):
        return _page(_INVALID, "", 404)
    return _page("Unsubscribe", _UNSUBSCRIBE_FORM)


@router.post(
    "/unsubscribe/{token}",
    response_class=HTMLResponse,
    responses={
        200: _html_response("Unsubscribed", "You are unsubscribed", _UNSUBSCRIBED),
        404: _NOT_VALID,
    },
)
def unsubscribe_now(token: str, session: WriteSession) -> HTMLResponse:
    """Unsubscribe at once (RFC 8058 one-click: no cookie, no confirmation)."""
    if not unsubscribe.unsubscribe(session, token):
        return _page(_INVALID, "", 404)
    return _page("You are unsubscribed", _UNSUBSCRIBED)


@router.get(
    "/t/o/{token}",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/gif": {
                    "schema": {"type": "string", "format": "binary"},
                    # Binary: the example is the pixel itself, as a data URL.
                    "examples": {
                        "pixel": {
                            "summary": "The transparent 1×1 GIF",
                            "externalValue": _PIXEL_URL,
                        }
                    },
                }
            },
            "description": "A 1×1 GIF",
        }
    },
)
def open_pixel(token: str, session: WriteSession) -> Response:
    """The open pixel: records an open of the message, answers a 1×1 GIF either way."""
    found = links.read_open(token)
    if found is not None:
        tracking.record_open(session, *found)
    return Response(
        tracking.PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store, private"}
    )


@router.get(
    "/t/c/{token}",
    response_class=RedirectResponse,
    status_code=302,
    responses={302: {"description": "To the link's destination"}, 404: _NOT_VALID},
)
def click(token: str, session: WriteSession) -> Response:
    """A tracked link: records the click and redirects to the signed destination. An
    unsigned or altered link is refused (never an open redirect)."""
    found = links.read_click(token)
    if found is None or not found[2].startswith(("https://", "http://")):
        return _page(_INVALID, "", 404)
    store_id, message_id, url = found
    tracking.record_click(session, store_id, message_id)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


@router.get(
    "/password-reset",
    response_class=HTMLResponse,
    responses={200: _html_response("A form that sets the password", _RESET_TITLE, _reset_form(""))},
)
def password_reset_page(
    token: Annotated[str, Query(max_length=200, description="The token from the email.")] = "",
) -> HTMLResponse:
    """The page of a member's password-reset link: a form that sets the password."""
    return _page(_RESET_TITLE, _reset_form(token))


@router.post(
    "/password-reset",
    status_code=204,
    response_class=Response,
    responses={400: {"description": "The link is invalid, used or expired"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": PasswordReset.model_json_schema(),
                    "examples": {
                        "reset": {
                            "summary": "Set the password",
                            "value": {"token": "k3J9…", "password": "a long passphrase"},
                        }
                    },
                },
                "application/x-www-form-urlencoded": {"schema": PasswordReset.model_json_schema()},
            },
        }
    },
)
async def password_reset(request: Request) -> Response:
    """Set a member's password with the token of a password-reset email (single use,
    expiring). Answers 204, or a page when posted from the reset page's form."""
    form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    if form:
        raw = await request.body()
        if len(raw) > MAX_FORM_BYTES:
            return _page("The form is too large.", "", 413)
        pairs = parse_qs(raw.decode("utf-8", "replace"))
        fields: Any = {key: values[0] for key, values in pairs.items()}
    else:
        fields = await read_json(request, MAX_FORM_BYTES)
        if not isinstance(fields, dict):
            raise BadRequest("The request body must be a JSON object.")
    try:
        data = validate(PasswordReset, fields)
        runtime: Runtime = request.app.state.runtime
        await run_in_threadpool(_reset, runtime.db, data)
    except (ValidationFailed, transactional.ResetRefused) as exc:
        if not form:
            if isinstance(exc, ValidationFailed):
                raise
            raise BadRequest(str(exc)) from None
        message = first_message(exc.errors) if isinstance(exc, ValidationFailed) else str(exc)
        return _page("Your password was not set", f"<p>{html.escape(message)}</p>", 400)
    if form:
        return _page("Your password is set", "<p>You can sign in with it now.</p>")
    return Response(status_code=204)


def _reset(db: Database, data: PasswordReset) -> None:
    password_hash = hash_password(data.password)  # slow on purpose: outside the transaction
    with db.transaction() as session:
        transactional.reset_password(session, data.token, password_hash)


_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post(
    "/sms/inbound",
    response_class=Response,
    responses={
        200: {"content": {"text/xml": {"example": _TWIML}}, "description": "Empty TwiML"},
        403: {"content": {"text/xml": {}}, "description": "Not signed by the provider"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "From": {"type": "string", "description": "The replying number."},
                            "To": {"type": "string", "description": "The store's number."},
                            "Body": {"type": "string", "description": "The reply's text."},
                        },
                    },
                    "examples": {
                        "stop": {
                            "summary": "A STOP reply",
                            "value": {"From": "+14155550199", "To": "+14155550100", "Body": "STOP"},
                        }
                    },
                }
            },
        }
    },
)
async def sms_inbound(request: Request) -> Response:
    """The SMS provider's incoming-message webhook (Twilio's shape, signed with
    `X-Twilio-Signature`): STOP-style replies suppress the number, START-style replies lift
    that. Point the number's messaging webhook at `CARTWHEEL_PUBLIC_URL/v1/sms/inbound`."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return Response(_TWIML, status_code=413, media_type="text/xml")
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    url = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not inbound.is_signed(settings, url, form, request.headers.get("x-twilio-signature")):
        return Response(_TWIML, status_code=403, media_type="text/xml")
    await run_in_threadpool(_inbound, runtime, form)
    return Response(_TWIML, media_type="text/xml")


def _inbound(runtime: Runtime, form: dict[str, str]) -> None:
    with runtime.db.transaction() as session:
        inbound.handle(session, runtime.settings, form)
