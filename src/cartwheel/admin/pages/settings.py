"""Settings: secret API keys (a new one is shown once; revoking asks first), the client
credentials' allowed origins, the store's rate limit, and an SMTP check (a test email to
an address the operator types, sent through the relay messages go through, its answer or
error shown). Every change, and every check, is audited."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import make_msgid

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from cartwheel.admin import audit
from cartwheel.admin.web import (
    Post,
    Scope,
    Scoped,
    admin_router,
    confirm_page,
    path_id,
    render,
    runtime,
    see,
)
from cartwheel.exceptions import NotFound, ValidationFailed
from cartwheel.identity.addresses import is_valid_email, normalize_email
from cartwheel.messages import senders, smtp
from cartwheel.models.base import utcnow
from cartwheel.stores import service as stores

router = admin_router()


@dataclass(frozen=True)
class SmtpCheck:
    """What the relay said to a test email: ``sent``, or the SMTP error."""

    to: str
    sent: bool
    summary: str
    error: str | None = None


def _page(
    request: Request,
    scope: Scope,
    *,
    new_key: stores.NewKey | None = None,
    new_credential: tuple[str, str] | None = None,
    errors: list[str] | None = None,
    smtp_check: SmtpCheck | None = None,
    status: int = 200,
) -> HTMLResponse:
    settings = runtime(request).settings
    with runtime(request).db.read() as session:
        keys = stores.list_keys(session, scope.store_id)
        credentials = stores.list_client_credentials(session, scope.store_id)
        store = stores.get_store(session, scope.store_id)
    return render(
        request,
        "settings.html",
        scope.context(
            page="settings",
            keys=keys,
            credentials=credentials,
            rate_limit=store.rate_limit_per_second,
            default_rate_limit=settings.rate_limit_per_second,
            new_key=new_key,
            new_credential=new_credential,
            errors=errors or [],
            cache_seconds=settings.auth_cache_seconds,
            smtp_settings=settings,
            smtp_check=smtp_check,
        ),
        status,
    )


@router.get("/admin/stores/{store_id}/settings")
def page(request: Request, scope: Scoped) -> HTMLResponse:
    return _page(request, scope)


@router.post("/admin/stores/{store_id}/settings/keys")
def create_key(request: Request, posted: Post) -> HTMLResponse:
    scope = posted.scope
    name = posted.form.get("name").strip() or "default"
    if len(name) > 200 or any(ord(c) < 32 for c in name):
        return _page(
            request, scope, errors=["The key's name must be one line of at most 200."], status=422
        )
    with runtime(request).db.transaction() as session:
        key = stores.create_key(session, scope.store_id, name)
        audit.record(
            session, scope.who, scope.store_id, "key.create", f"key {key.id}", {"name": name}
        )
    # Shown on this answer only: the page is not stored (Cache-Control: no-store).
    return _page(request, scope, new_key=key)


@router.post("/admin/stores/{store_id}/settings/keys/{key_id}/revoke")
def revoke_key(request: Request, posted: Post, key_id: str) -> Response:
    scope = posted.scope
    kid = path_id(key_id)
    with runtime(request).db.read() as session:
        key = next((k for k in stores.list_keys(session, scope.store_id) if k.id == kid), None)
    if key is None:
        raise NotFound("Page not found.")
    if not posted.confirmed():
        return confirm_page(
            request,
            posted,
            f"Revoke the key “{key.name}” ({key.prefix}…)?",
            "Requests with this key are refused from now on (within "
            f"{runtime(request).settings.auth_cache_seconds:g} seconds). This cannot be undone.",
            "Revoke the key",
        )
    with runtime(request).db.transaction() as session:
        stores.revoke_key(session, scope.store_id, kid)
        audit.record(
            session,
            scope.who,
            scope.store_id,
            "key.revoke",
            f"key {kid}",
            {"name": key.name, "prefix": key.prefix},
        )
    return see(f"{scope.base}/settings")


@router.post("/admin/stores/{store_id}/settings/credentials")
def create_credential(request: Request, posted: Post) -> HTMLResponse:
    scope = posted.scope
    origins = [o for o in posted.form.get("origins").replace(",", "\n").splitlines() if o.strip()]
    try:
        with runtime(request).db.transaction() as session:
            app_id, token = stores.create_client_credential(session, scope.store_id, [])
            credential = next(
                c
                for c in stores.list_client_credentials(session, scope.store_id)
                if c.application_id == app_id
            )
            stores.set_allowed_origins(session, scope.store_id, credential.id, origins)
            audit.record(
                session,
                scope.who,
                scope.store_id,
                "credential.create",
                f"client credential {credential.id}",
                {"applicationId": app_id},
            )
    except ValidationFailed as exc:
        messages = [m for values in exc.errors.values() for m in values]
        return _page(request, scope, errors=messages, status=422)
    # The token is shown on this answer only (only its digest is kept).
    return _page(request, scope, new_credential=(app_id, token))


@router.post("/admin/stores/{store_id}/settings/credentials/{credential_id}/revoke")
def revoke_credential(request: Request, posted: Post, credential_id: str) -> Response:
    scope = posted.scope
    cid = path_id(credential_id)
    with runtime(request).db.read() as session:
        credential = next(
            (c for c in stores.list_client_credentials(session, scope.store_id) if c.id == cid),
            None,
        )
    if credential is None:
        raise NotFound("Page not found.")
    if not posted.confirmed():
        return confirm_page(
            request,
            posted,
            f"Revoke the client credential {credential.application_id}?",
            "Browsers sending events with it are refused from now on (within "
            f"{runtime(request).settings.auth_cache_seconds:g} seconds). This cannot be undone.",
            "Revoke the credential",
        )
    with runtime(request).db.transaction() as session:
        stores.revoke_client_credential(session, scope.store_id, cid)
        audit.record(
            session,
            scope.who,
            scope.store_id,
            "credential.revoke",
            f"client credential {cid}",
            {"applicationId": credential.application_id},
        )
    return see(f"{scope.base}/settings")


@router.post("/admin/stores/{store_id}/settings/origins/{credential_id}")
def set_origins(request: Request, posted: Post, credential_id: str) -> Response:
    scope = posted.scope
    cid = path_id(credential_id)
    origins = posted.form.get("origins").replace(",", "\n").splitlines()
    try:
        with runtime(request).db.transaction() as session:
            row = stores.set_allowed_origins(session, scope.store_id, cid, origins)
            audit.record(
                session,
                scope.who,
                scope.store_id,
                "origins.set",
                f"client credential {cid}",
                {"origins": row.allowed_origins},
            )
    except ValidationFailed as exc:
        messages = [m for values in exc.errors.values() for m in values]
        return _page(request, scope, errors=messages, status=422)
    return see(f"{scope.base}/settings")


@router.post("/admin/stores/{store_id}/settings/rate-limit")
def set_rate_limit(request: Request, posted: Post) -> Response:
    scope = posted.scope
    raw = posted.form.get("rate_limit").strip()
    value: float | None = None
    if raw:
        try:
            value = float(raw)
        except ValueError:
            return _page(request, scope, errors=["The rate limit must be a number."], status=422)
    try:
        with runtime(request).db.transaction() as session:
            stores.set_rate_limit(session, scope.store_id, value)
            audit.record(
                session,
                scope.who,
                scope.store_id,
                "rate_limit.set",
                f"store {scope.store_id}",
                {"perSecond": value},
            )
    except ValidationFailed as exc:
        messages = [m for values in exc.errors.values() for m in values]
        return _page(request, scope, errors=messages, status=422)
    return see(f"{scope.base}/settings")


@router.post("/admin/stores/{store_id}/settings/smtp-check")
def smtp_check(request: Request, posted: Post) -> HTMLResponse:
    """Send one test email, now, through the configured relay (the same SMTP session code
    the send task uses) and show what the relay answered: a check an operator waits for,
    not a message of the store, so it is not queued."""
    scope = posted.scope
    settings = runtime(request).settings
    raw = posted.form.get("to").strip()
    to = normalize_email(raw) if len(raw) <= 320 else None
    if not to or not is_valid_email(to):
        return _page(
            request, scope, errors=["Type the email address to send the test to."], status=422
        )
    with runtime(request).db.read() as session:
        sender = senders.read(session, scope.store_id)
    from_address = (
        smtp.sender_address(sender.fromEmail, sender.fromName)
        if sender.fromEmail
        else settings.mail_from
    )
    if not settings.smtp_host:
        check = SmtpCheck(
            to,
            False,
            "No SMTP relay is configured: set CARTWHEEL_SMTP_HOST (and the other "
            "CARTWHEEL_SMTP_* settings).",
        )
    else:
        domain = smtp.envelope_sender(from_address).rpartition("@")[2] or None
        email = smtp.Email(
            from_address=from_address,
            to=to,
            subject=f"Cartwheel SMTP check for {scope.store.name}",
            html=(
                "<p>This is a test email from Cartwheel's back office, sent by "
                f"{scope.who.email} at {utcnow():%Y-%m-%d %H:%M:%S} UTC.</p>"
                "<p>If you can read it, email from Cartwheel reaches this address.</p>"
            ),
            text=(
                f"This is a test email from Cartwheel's back office, sent by {scope.who.email} "
                f"at {utcnow():%Y-%m-%d %H:%M:%S} UTC.\n\nIf you can read it, email from "
                "Cartwheel reaches this address.\n"
            ),
            message_id=make_msgid(domain=domain),
        )
        with smtp.SmtpConnection(settings) as connection:
            outcome = connection.send(email)
        relay = f"{settings.smtp_host}:{settings.smtp_port}"
        if outcome.outcome == smtp.SENT:
            check = SmtpCheck(to, True, f"The relay {relay} accepted the test email for {to}.")
        else:
            kind = "temporary" if outcome.outcome == smtp.TEMPORARY else "permanent"
            check = SmtpCheck(
                to,
                False,
                f"The relay {relay} did not take the test email ({kind} failure).",
                outcome.error,
            )
    with runtime(request).db.transaction() as session:
        audit.record(
            session,
            scope.who,
            scope.store_id,
            "smtp.check",
            f"test email to {to}",
            {"sent": check.sent, "error": check.error or (None if check.sent else check.summary)},
        )
    return _page(request, scope, smtp_check=check)
