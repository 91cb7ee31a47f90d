"""``cartwheel queue failed`` and ``cartwheel queue replay`` against real databases, calling
the same service as the API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from cartwheel import cli
from cartwheel.config import Settings, get_settings
from cartwheel.db import Database
from tests.conftest import StoreFixture
from tests.worker.test_failures_api import HANDLER, add_failure


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli.app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def listed(runner: CliRunner, *args: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(
        run(runner, "queue", "failed", *args, "--json").strip().splitlines()[-1]
    )
    return rows


def test_queue_failed_lists_a_stores_dead_letters(
    runner: CliRunner, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    events = add_failure(db, store.store_id, "events")
    outbox = add_failure(db, store.store_id, "outbox")
    retrying = add_failure(db, store.store_id, "events", status="pending")
    add_failure(db, other_store.store_id)

    rows = listed(runner, "--store", str(store.store_id))
    assert [r["id"] for r in rows] == [outbox, events]  # dead letters, newest first
    assert rows[1]["handler"] == HANDLER and rows[1]["lastError"]
    only = listed(runner, "--store", str(store.store_id), "--queue", "outbox")
    assert [r["id"] for r in only] == [outbox]
    every = listed(runner, "--store", str(store.store_id), "--status", "all")
    assert [r["id"] for r in every] == [retrying, outbox, events]

    text = run(runner, "queue", "failed", "--store", str(store.store_id))
    assert str(events) in text and HANDLER in text and "failed" in text
    assert "queue" in run(runner, "queue", "failed", "--queue", "bogus", code=1)


def test_queue_replay_one_and_all(
    runner: CliRunner, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    one = add_failure(db, store.store_id)
    add_failure(db, store.store_id, "outbox")
    add_failure(db, store.store_id, "events")
    theirs = add_failure(db, other_store.store_id)

    assert "1 replayed" in run(runner, "queue", "replay", str(one))
    assert "still being retried" in run(runner, "queue", "replay", str(one), code=1)
    assert "not found" in run(runner, "queue", "replay", "0", code=1)
    # With --store, another store's failure is not found, as in the API.
    wrong_store = run(
        runner, "queue", "replay", str(theirs), "--store", str(store.store_id), code=1
    )
    assert "not found" in wrong_store

    store_id = str(store.store_id)
    out = run(runner, "queue", "replay", "--store", store_id, "--all", "--queue", "outbox")
    assert "1 replayed" in out
    assert "1 replayed" in run(runner, "queue", "replay", "--store", store_id, "--all")
    assert listed(runner, "--store", store_id) == []
    assert [r["id"] for r in listed(runner, "--store", str(other_store.store_id))] == [theirs]

    run(runner, "queue", "replay", code=2)  # neither an id nor --all
    run(runner, "queue", "replay", "--all", code=2)  # --all needs --store
