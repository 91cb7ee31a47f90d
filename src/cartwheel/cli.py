"""The ``cartwheel`` command line. It calls the same services as the API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer

from cartwheel.config import get_settings
from cartwheel.db import Database
from cartwheel.exceptions import AppError
from cartwheel.kit import logs
from cartwheel.migrate import migrate as run_migrations
from cartwheel.stores import service as stores

T = TypeVar("T")

app = typer.Typer(help="Cartwheel: a self-hosted customer event platform.", no_args_is_help=True)
stores_app = typer.Typer(help="Stores (tenants).", no_args_is_help=True)
keys_app = typer.Typer(help="Secret API keys of a store.", no_args_is_help=True)
app.add_typer(stores_app, name="stores")
app.add_typer(keys_app, name="keys")


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
    """Run the background worker loop in the foreground (event processing, webhooks)."""
    from cartwheel.worker.runner import Worker

    logs.configure()
    with _database() as db:
        Worker(db, get_settings()).run_forever()


@stores_app.command("create")
def stores_create(
    name: str,
    allowed_origin: Annotated[
        list[str] | None,
        typer.Option("--allowed-origin", help="Origin allowed to use the client credential."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a store with one secret API key and one public client credential."""
    with _database() as db, db.transaction() as session:
        created = stores.create_store(session, name, allowed_origin or [])
    result = {
        "store_id": created.store_id,
        "api_key": created.api_key,
        "client_application_id": created.client_application_id,
        "client_token": created.client_token,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create another secret API key (shown once)."""
    with _database() as db, db.transaction() as session:
        key = _or_exit(lambda: stores.create_key(session, store_id, name))
    if as_json:
        typer.echo(
            json.dumps({"id": key.id, "store_id": store_id, "name": name, "api_key": key.key})
        )
    else:
        typer.echo(f"key {key.id} created (shown only once): {key.key}")


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
        typer.echo(f"{row['id']}\t{row['name']}\t{row['prefix']}…\t{state}")


@keys_app.command("revoke")
def keys_revoke(store_id: int, key_id: int) -> None:
    """Revoke a key (takes effect within CARTWHEEL_AUTH_CACHE_SECONDS)."""
    with _database() as db, db.transaction() as session:
        _or_exit(lambda: stores.revoke_key(session, store_id, key_id))
    typer.echo(f"key {key_id} revoked")


def _or_exit(action: Callable[[], T]) -> T:
    try:
        return action()
    except AppError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


def main() -> None:
    app()
