"""``cartwheel messages``: the store's sender and its suppression list from the shell."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cartwheel import cli
from cartwheel.config import Settings, get_settings
from tests.conftest import StoreFixture, json_of


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_sender_and_suppress(runner: CliRunner, client: TestClient, store: StoreFixture) -> None:
    sid = str(store.store_id)
    result = runner.invoke(
        cli.app,
        ["messages", "sender", sid, "--from-email", "shop@example.com", "--from-name", "Shop"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["fromEmail"] == "shop@example.com"
    result = runner.invoke(cli.app, ["messages", "sender", sid, "--reply-to", "help@example.com"])
    assert json.loads(result.output) == {
        "fromEmail": "shop@example.com",
        "fromName": "Shop",
        "replyTo": "help@example.com",
        "smsFrom": None,
    }
    api = json_of(client.get("/v1/messaging/sender", headers=store.headers))
    assert api["replyTo"] == "help@example.com"

    bad = runner.invoke(cli.app, ["messages", "sender", sid, "--from-email", "nope"])
    assert bad.exit_code == 1 and "not an email address" in bad.output
    missing = runner.invoke(cli.app, ["messages", "sender", "999999"])
    assert missing.exit_code == 1 and "does not exist" in missing.output

    result = runner.invoke(cli.app, ["messages", "suppress", sid, "Ann@Example.com"])
    assert result.exit_code == 0 and "ann@example.com: suppressed" in result.output
    listed = json_of(client.get("/v1/suppressions", headers=store.headers))
    assert [s["address"] for s in listed["items"]] == ["ann@example.com"]
    runner.invoke(cli.app, ["messages", "suppress", sid, "ann@example.com", "--remove"])
    assert json_of(client.get("/v1/suppressions", headers=store.headers))["totalCount"] == 0
    bad = runner.invoke(cli.app, ["messages", "suppress", sid, "x", "--channel", "fax"])
    assert bad.exit_code == 1
