"""``cartwheel admins``: create (password from stdin), grant, revoke, password, list."""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from cartwheel.admin import accounts
from cartwheel.cli import app
from cartwheel.config import get_settings
from cartwheel.db import Database
from tests.conftest import StoreFixture

runner = CliRunner()


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_admins_create_grant_revoke_password_list(
    cli_env: None, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@ops.example"
    made = runner.invoke(
        app,
        ["admins", "create", email, "--store", str(store.store_id), "--password-stdin"],
        input="a long enough password\n",
    )
    assert made.exit_code == 0, made.output
    assert f"stores: {store.store_id}" in made.output
    with db.read() as session:
        operator = accounts.by_email(session, email)
        assert operator is not None
        assert accounts.verify(session, email, "a long enough password") == operator
    granted = runner.invoke(app, ["admins", "grant", email, "--store", str(other_store.store_id)])
    assert granted.exit_code == 0, granted.output
    listed = runner.invoke(app, ["admins", "list", "--json"])
    row = next(r for r in json.loads(listed.output) if r["email"] == email)
    assert row["stores"] == sorted([store.store_id, other_store.store_id])
    revoked = runner.invoke(app, ["admins", "revoke", email, "--store", str(store.store_id)])
    assert revoked.exit_code == 0 and f"stores: {other_store.store_id}" in revoked.output
    changed = runner.invoke(
        app, ["admins", "password", email, "--password-stdin"], input="another long password\n"
    )
    assert changed.exit_code == 0, changed.output
    with db.read() as session:
        assert not isinstance(accounts.verify(session, email, "another long password"), type(None))
        assert accounts.verify(session, email, "a long enough password") == accounts.WRONG


def test_admins_create_refuses_bad_input(cli_env: None) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@ops.example"
    short = runner.invoke(app, ["admins", "create", email, "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "12 to 1024" in short.output
    missing = runner.invoke(
        app,
        ["admins", "create", email, "--store", "2147483000", "--password-stdin"],
        input="a long enough password\n",
    )
    assert missing.exit_code == 1 and "does not exist" in missing.output
    ok = runner.invoke(app, ["admins", "create", email, "--password-stdin"], input="x" * 12 + "\n")
    assert ok.exit_code == 0
    twice = runner.invoke(app, ["admins", "create", email, "--password-stdin"], input="x" * 12)
    assert twice.exit_code == 1 and "exists" in twice.output
    assert runner.invoke(app, ["admins", "grant", email]).exit_code == 2
    assert runner.invoke(app, ["admins", "grant", "no@ops.example", "--store", "1"]).exit_code == 1
