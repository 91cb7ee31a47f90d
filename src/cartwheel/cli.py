"""The ``cartwheel`` command line. It calls the same services as the API."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.orm import Session

from cartwheel.config import get_settings
from cartwheel.db import Database
from cartwheel.exceptions import AppError, NotFound, ValidationFailed, first_message
from cartwheel.kit import logs
from cartwheel.kit.pagination import PageParams
from cartwheel.kit.requests import validate
from cartwheel.migrate import migrate as run_migrations
from cartwheel.models import Store
from cartwheel.models.base import utcnow
from cartwheel.stores import service as stores
from cartwheel.worker import service as queues
from cartwheel.worker.schemas import failure_json

T = TypeVar("T")

app = typer.Typer(help="Cartwheel: a self-hosted customer event platform.", no_args_is_help=True)
stores_app = typer.Typer(help="Stores (tenants).", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys of a store: secret keys, and write keys (sending events only).",
    no_args_is_help=True,
)
app.add_typer(stores_app, name="stores")
queue_app = typer.Typer(
    help="Failed handlers of the event and outbox queues: list, replay.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(queue_app, name="queue")
messages_app = typer.Typer(
    help="Messaging: a store's sender, its suppression list.", no_args_is_help=True
)
app.add_typer(messages_app, name="messages")


admins_app = typer.Typer(
    help="Operators of the back office (/admin) and the stores granted to them.",
    no_args_is_help=True,
)
app.add_typer(admins_app, name="admins")


@contextmanager
def _database() -> Iterator[Database]:
    """A migrated database, disposed (its pooled connections closed) when the command ends."""
    db = Database(get_settings().database_url)
    try:
        run_migrations(db.engine)
        yield db
    finally:
        db.dispose()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    with _database():
        typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Run no in-process worker.")
    ] = False,
) -> None:
    """Run the HTTP API (and, unless --no-worker, the background worker)."""
    import uvicorn

    from cartwheel.app import create_app

    settings = get_settings()
    logs.configure()
    uvicorn.run(
        create_app(settings, run_worker=False if no_worker else None),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        access_log=False,
    )


@app.command()
def worker() -> None:
    """Run the background worker in the foreground (event processing, webhooks, flows):
    CARTWHEEL_WORKER_CONCURRENCY passes at once. SIGINT or SIGTERM stops it once each pass
    in progress has committed; a second signal stops it at once (the passes cut short
    replay)."""
    import signal

    from pydantic import ValidationError

    from cartwheel.kit.collector import tune_garbage_collector
    from cartwheel.worker.runner import Worker, concurrency

    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "CARTWHEEL_" + "_".join(str(part) for part in error["loc"]).upper()
            typer.echo(f"error: {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    logs.configure()
    with _database() as db:
        running = Worker(db, settings, concurrency=concurrency(settings, db))

        def stop(signum: int, _frame: object) -> None:
            signal.signal(signum, signal.SIG_DFL)  # a second signal ends the process
            running.request_stop()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        tune_garbage_collector()
        running.run_forever()


@stores_app.command("create")
def stores_create(
    name: str,
    allowed_origin: Annotated[
        list[str] | None,
        typer.Option("--allowed-origin", help="Origin allowed to use the client credential."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a store with one secret API key, one write key (the tracking spec's: sending
    events only) and one public client credential."""
    with _database() as db, db.transaction() as session:
        created = stores.create_store(session, name, allowed_origin or [])
    result = {
        "store_id": created.store_id,
        "api_key": created.api_key,
        "client_application_id": created.client_application_id,
        "client_token": created.client_token,
        "write_key": created.write_key,
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"store {created.store_id} created; the secrets below are shown only once")
    for key, value in result.items():
        typer.echo(f"  {key}: {value}")


@stores_app.command("rate-limit")
def stores_rate_limit(
    store_id: int,
    per_second: Annotated[
        float | None, typer.Argument(help="Requests per second; omit to use the default.")
    ] = None,
) -> None:
    """Set (or clear) a store's own rate limit."""
    with _database() as db, db.transaction() as session:
        _or_exit(lambda: stores.set_rate_limit(session, store_id, per_second))
    typer.echo(f"store {store_id}: rate limit {per_second or 'default'}")


@keys_app.command("create")
def keys_create(
    store_id: int,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
    write: Annotated[
        bool,
        typer.Option("--write", help="A write key: it can send events and nothing else."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create another secret API key, or with --write a write key (shown once)."""
    kind = "write" if write else "secret"
    with _database() as db, db.transaction() as session:
        key = _or_exit(lambda: stores.create_key(session, store_id, name, kind))
    if as_json:
        field = "write_key" if write else "api_key"
        typer.echo(
            json.dumps(
                {"id": key.id, "store_id": store_id, "name": name, "kind": kind, field: key.key}
            )
        )
    else:
        typer.echo(f"{kind} key {key.id} created (shown only once): {key.key}")


@keys_app.command("list")
def keys_list(
    store_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a store's keys (prefixes only; secrets are never stored)."""
    with _database() as db, db.read() as session:
        rows = [
            {
                "id": k.id,
                "name": k.name,
                "kind": k.kind,
                "prefix": k.prefix,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k in stores.list_keys(session, store_id)
        ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else "active"
        typer.echo(f"{row['id']}\t{row['kind']}\t{row['name']}\t{row['prefix']}…\t{state}")


@keys_app.command("revoke")
def keys_revoke(store_id: int, key_id: int) -> None:
    """Revoke a key (takes effect within CARTWHEEL_AUTH_CACHE_SECONDS)."""
    with _database() as db, db.transaction() as session:
        _or_exit(lambda: stores.revoke_key(session, store_id, key_id))
    typer.echo(f"key {key_id} revoked")


@queue_app.command("failed")
def queue_failed(
    store: Annotated[int | None, typer.Option("--store", help="Only this store's.")] = None,
    queue: Annotated[
        str | None, typer.Option("--queue", help="Only this queue: events or outbox.")
    ] = None,
    status: Annotated[
        str, typer.Option("--status", help="failed (dead letters), pending (retrying) or all.")
    ] = "failed",
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most rows shown.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """List handlers that failed on a queued row, newest first (dead letters by default)."""
    with _database() as db, db.read() as session:
        rows, _ = _or_exit(
            lambda: queues.list_failures(
                session, store, PageParams(limit=limit), queue, None if status == "all" else status
            )
        )
        views = [failure_json(row) for row in rows]
    if as_json:
        typer.echo(json.dumps(views))
        return
    for v in views:
        when = v["failedOn"] or v["nextAttemptOn"]
        typer.echo(
            f"{v['id']}\t{v['queue']}\t{v['rowId']}\t{v['handler']}\t{v['status']}\t"
            f"{v['attempts']}\t{when}\t{v['lastError']}"
        )


@queue_app.command("replay")
def queue_replay(
    failure_id: Annotated[int | None, typer.Argument(help="The failure to replay.")] = None,
    store: Annotated[int | None, typer.Option("--store", help="The store (with --all).")] = None,
    replay_all: Annotated[
        bool, typer.Option("--all", help="Replay every failed row of --store.")
    ] = False,
    queue: Annotated[
        str | None, typer.Option("--queue", help="With --all: only this queue.")
    ] = None,
) -> None:
    """Give a failed handler (or, with --store ID --all, all of a store's) a fresh set of
    tries; the worker runs them on its next pass."""
    if replay_all == (failure_id is not None) or (replay_all and store is None):
        typer.echo("error: give a failure id, or --store ID --all", err=True)
        raise typer.Exit(2)
    with _database() as db, db.transaction() as session:
        if failure_id is not None:
            _or_exit(lambda: queues.replay_failure(session, store, failure_id))
            count = 1
        else:
            assert store is not None
            count = _or_exit(lambda: queues.replay_failures(session, store, queue))
    typer.echo(f"{count} replayed")


@messages_app.command("sender")
def messages_sender(
    store_id: int,
    from_email: Annotated[str | None, typer.Option(help="From address.")] = None,
    from_name: Annotated[str | None, typer.Option(help="From name.")] = None,
    reply_to: Annotated[str | None, typer.Option(help="Reply-To address.")] = None,
    sms_from: Annotated[str | None, typer.Option(help="SMS sender number.")] = None,
) -> None:
    """Show a store's sender, or set the fields given (the others are kept)."""
    from cartwheel.messages import senders
    from cartwheel.messages.schemas import SenderSettings

    given = {
        "fromEmail": from_email,
        "fromName": from_name,
        "replyTo": reply_to,
        "smsFrom": sms_from,
    }
    with _database() as db, db.transaction() as session:
        _or_exit(lambda: _store(session, store_id))
        current = senders.read(session, store_id).model_dump()
        if any(v is not None for v in given.values()):
            wanted = {k: (v if v is not None else current[k]) for k, v in given.items()}
            current = _or_exit(
                lambda: senders.write(session, store_id, validate(SenderSettings, wanted))
            ).model_dump()
    typer.echo(json.dumps(current))


@messages_app.command("suppress")
def messages_suppress(
    store_id: int,
    address: str,
    channel: Annotated[str, typer.Option(help="email or sms.")] = "email",
    remove: Annotated[bool, typer.Option("--remove", help="Take it off the list.")] = False,
) -> None:
    """Put an address on a store's suppression list (or take it off)."""
    from cartwheel.messages import consent
    from cartwheel.messages.schemas import SuppressionCreate

    with _database() as db, db.transaction() as session:
        _or_exit(lambda: _store(session, store_id))
        body = {"channel": channel, "address": address}
        data = _or_exit(lambda: validate(SuppressionCreate, body))
        row = _or_exit(lambda: consent.add_suppression(session, store_id, data))
        if remove:
            consent.remove_suppression(session, store_id, row.id)
    typer.echo(f"{row.address}: {'removed' if remove else 'suppressed'}")


def _store(session: Session, store_id: int) -> None:
    if session.get(Store, store_id) is None:
        raise NotFound(f"Store {store_id} does not exist.")


StoreOption = Annotated[
    list[int] | None, typer.Option("--store", help="A store to grant (repeat for more).")
]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@admins_app.command("create")
def admins_create(
    email: str, store: StoreOption = None, password_stdin: PasswordStdin = False
) -> None:
    """Create an operator (password prompted, or --password-stdin), granting each --store."""
    from cartwheel.admin import accounts

    password = _password(password_stdin)
    with _database() as db, db.transaction() as session:
        operator = _or_exit(lambda: accounts.create_operator(session, email, password, store or []))
        granted = accounts.granted_store_ids(session, operator.id)
    typer.echo(f"operator {operator.email} created; stores: {_stores(granted)}")


@admins_app.command("grant")
def admins_grant(email: str, store: StoreOption = None) -> None:
    """Grant an operator more stores (--store ID, repeatable)."""
    from cartwheel.admin import accounts

    if not store:
        typer.echo("error: give at least one --store ID", err=True)
        raise typer.Exit(2)
    with _database() as db, db.transaction() as session:
        operator = _or_exit(lambda: accounts.grant(session, email, store))
        granted = accounts.granted_store_ids(session, operator.id)
    typer.echo(f"operator {operator.email}; stores: {_stores(granted)}")


@admins_app.command("revoke")
def admins_revoke(email: str, store: StoreOption = None) -> None:
    """Take stores away from an operator (--store ID, repeatable)."""
    from cartwheel.admin import accounts

    with _database() as db, db.transaction() as session:
        operator = _or_exit(lambda: accounts.revoke(session, email, store or []))
        granted = accounts.granted_store_ids(session, operator.id)
    typer.echo(f"operator {operator.email}; stores: {_stores(granted)}")


@admins_app.command("password")
def admins_password(email: str, password_stdin: PasswordStdin = False) -> None:
    """Set an operator's password (this also lifts a lock-out)."""
    from cartwheel.admin import accounts

    password = _password(password_stdin)
    with _database() as db, db.transaction() as session:
        operator = _or_exit(lambda: accounts.set_password(session, email, password))
    typer.echo(f"operator {operator.email}: password changed")


@admins_app.command("list")
def admins_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False,
) -> None:
    """List operators with their stores."""
    from cartwheel.admin import accounts

    with _database() as db, db.read() as session:
        now = utcnow()
        rows: list[dict[str, Any]] = [
            {
                "email": o.email,
                "stores": stores_of,
                "locked": o.locked_until is not None and o.locked_until > now,
                "lastLogin": o.last_login_at.isoformat() if o.last_login_at else None,
            }
            for o, stores_of in accounts.list_operators(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(f"{row['email']}\tstores: {_stores(row['stores'])}")


def _stores(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids) or "none"


def _or_exit(action: Callable[[], T]) -> T:
    try:
        return action()
    except AppError as exc:
        message = first_message(exc.errors) if isinstance(exc, ValidationFailed) else exc.message
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1) from None


def main() -> None:
    app()
