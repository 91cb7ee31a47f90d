"""The ``cartwheel`` command line against real databases: stores, keys, migrations. Secrets
it prints must work against the API."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from typer.testing import CliRunner

from cartwheel import cli
from cartwheel.config import Settings, get_settings
from cartwheel.db import Database
from cartwheel.runtime import Runtime

EVENT = {"name": "cli test", "contact": {"email": "cli@example.com"}}


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI pointed at the database the ``client`` fixture serves."""
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(cli.app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def last_json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[-1])


# -- stores -----------------------------------------------------------------------------------


def test_stores_create_prints_working_credentials(runner: CliRunner, client: TestClient) -> None:
    origin = "https://cli-shop.example.com"
    created = last_json(
        run(runner, "stores", "create", "CLI shop", "--allowed-origin", origin, "--json")
    )
    assert set(created) == {
        "store_id",
        "api_key",
        "client_application_id",
        "client_token",
        "write_key",
    }
    assert isinstance(created["store_id"], int)

    secret = {"Authorization": f"Bearer {created['api_key']}"}
    assert client.post("/v1/events", json=EVENT, headers=secret).status_code == 202

    browser = {
        "X-Client-Application-Id": created["client_application_id"],
        "X-Client-Token": created["client_token"],
        "Origin": origin,
    }
    body = {"event": "cli", "customer": {"source_id": "cli-1"}}
    assert client.post("/client/v1/events", json=body, headers=browser).status_code == 200
    other_origin = {**browser, "Origin": "https://elsewhere.example.com"}
    assert client.post("/client/v1/events", json=body, headers=other_origin).status_code == 403


def test_stores_create_without_json_shows_the_secrets_once(runner: CliRunner) -> None:
    output = run(runner, "stores", "create", "Plain shop")
    assert "shown only once" in output
    for name in ("store_id", "api_key", "client_application_id", "client_token"):
        assert f"{name}: " in output


# -- keys -------------------------------------------------------------------------------------


def test_keys_create_list_and_revoke(
    runner: CliRunner, client: TestClient, runtime: Runtime
) -> None:
    store = last_json(run(runner, "stores", "create", "Key shop", "--json"))
    store_id = str(store["store_id"])
    first = {"Authorization": f"Bearer {store['api_key']}"}

    key = last_json(run(runner, "keys", "create", store_id, "--name", "backend", "--json"))
    assert key["store_id"] == store["store_id"] and key["name"] == "backend"
    second = {"Authorization": f"Bearer {key['api_key']}"}
    assert client.post("/v1/events", json=EVENT, headers=second).status_code == 202

    listed = last_json(run(runner, "keys", "list", store_id, "--json"))
    assert [(k["name"], k["kind"], k["revoked_at"]) for k in listed] == [
        ("default", "secret", None),
        ("default", "write", None),  # the store's write key (tracking spec)
        ("backend", "secret", None),
    ]
    assert [k["prefix"][:6] for k in listed] == ["cw_sk_", "cw_wk_", "cw_sk_"]
    listed = [k for k in listed if k["kind"] == "secret"]
    assert key["api_key"] not in json.dumps(listed)  # only prefixes, never secrets
    assert "backend" in run(runner, "keys", "list", store_id)

    assert f"key {key['id']} revoked" in run(runner, "keys", "revoke", store_id, str(key["id"]))
    # Verified keys are cached for CARTWHEEL_AUTH_CACHE_SECONDS; clear it to see the revoke.
    runtime.credentials.clear()
    assert client.post("/v1/events", json=EVENT, headers=second).status_code == 401
    assert client.post("/v1/events", json=EVENT, headers=first).status_code == 202
    listed = last_json(run(runner, "keys", "list", store_id, "--json"))
    assert listed[2]["revoked_at"] is not None and listed[0]["revoked_at"] is None


def test_keys_of_another_or_a_missing_store_are_refused(runner: CliRunner) -> None:
    mine = last_json(run(runner, "stores", "create", "Mine", "--json"))
    theirs = last_json(run(runner, "stores", "create", "Theirs", "--json"))
    their_key = last_json(run(runner, "keys", "create", str(theirs["store_id"]), "--json"))
    # A key id of another store is "not found" in this one.
    result = runner.invoke(cli.app, ["keys", "revoke", str(mine["store_id"]), str(their_key["id"])])
    assert result.exit_code == 1
    assert "does not exist" in result.output
    missing = runner.invoke(cli.app, ["keys", "create", "999999999"])
    assert missing.exit_code == 1


# -- migrations -------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_migrate_creates_the_schema_once(
    engine: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url: str = request.getfixturevalue("tmp_sqlite" if engine == "sqlite" else "fresh_postgres")
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert "database is up to date" in run(runner, "migrate")
        assert "database is up to date" in run(runner, "migrate")  # idempotent
    finally:
        get_settings.cache_clear()
    db = Database(url)
    try:
        tables = set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()
    assert {"stores", "api_keys", "client_credentials", "contacts", "events"} <= tables
    assert "alembic_version" in tables


def test_write_keys_send_events_and_nothing_else(
    runner: CliRunner, client: TestClient, runtime: Runtime
) -> None:
    store = last_json(run(runner, "stores", "create", "Tracking shop", "--json"))
    store_id = str(store["store_id"])
    track = {"userId": "cli-user", "event": "Signed Up"}

    def basic(key: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}

    # The store's own write key, and another one made by `keys create --write`.
    assert (
        client.post("/v1/track", json=track, headers=basic(store["write_key"])).status_code == 200
    )
    made = last_json(run(runner, "keys", "create", store_id, "--write", "--name", "web", "--json"))
    assert made["kind"] == "write" and made["write_key"].startswith("cw_wk_")
    web = basic(made["write_key"])
    assert (
        client.post(
            "/v1/batch", json={"batch": [{**track, "type": "track"}]}, headers=web
        ).status_code
        == 200
    )
    # A write key opens nothing else, and the secret key is no write key.
    bearer = {"Authorization": f"Bearer {made['write_key']}"}
    assert client.get("/v1/contacts", headers=bearer).status_code == 401
    assert client.post("/v1/track", json=track, headers=basic(store["api_key"])).status_code == 401

    assert "revoked" in run(runner, "keys", "revoke", store_id, str(made["id"]))
    runtime.credentials.clear()
    assert client.post("/v1/track", json=track, headers=web).status_code == 401
    assert "write" in run(runner, "keys", "list", store_id)
