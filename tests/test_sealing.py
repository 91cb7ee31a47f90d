"""Secrets at rest: webhook signing secrets and SSO keys are stored encrypted under the
application key, legacy plain values are read and then sealed, a rotation re-encrypts, a
missing key file is generated for its owner only, and the SQLite file is created 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text

from cartwheel import sealing
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.models import MemberSsoKey, WebhookSubscription
from tests.conftest import StoreFixture, json_of
from tests.members.test_sso import member, redeem, sign_on


def stored(db: Database, table: str, where: str, **params: object) -> str:
    with db.read() as session:
        value: str = session.execute(
            text(f"SELECT secret_sealed FROM {table} WHERE {where}"), params
        ).scalar_one()
    return value


def test_a_webhook_secret_is_stored_encrypted(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {"target": "https://93.184.215.14/hooks", "events": ["order_created"]}
    created = json_of(client.post("/v1/webhooks", json=body, headers=store.headers))
    raw = stored(db, "webhook_subscriptions", "public_id = :id", id=created["id"])
    assert raw.startswith("enc:v1:") and created["secret"] not in raw
    with db.read() as session:
        row = session.query(WebhookSubscription).filter_by(public_id=created["id"]).one()
        assert row.secret == created["secret"]


def test_an_sso_key_is_stored_encrypted(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    member(client, store, "sealed@example.com")
    token = sign_on(client, store, {"email": "sealed@example.com"})
    raw = stored(db, "member_sso_keys", "store_id = :id", id=store.store_id)
    assert raw.startswith("enc:v1:")
    with db.read() as session:
        key = session.get(MemberSsoKey, store.store_id)
        assert key is not None and len(key.secret) == 64
    assert redeem(client, token["token"]).status_code in (200, 302, 303, 307)


def test_a_legacy_plain_secret_is_read_then_sealed(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    body = {"target": "https://93.184.215.14/h", "events": ["order_created"], "secret": "legacy"}
    created = json_of(client.post("/v1/webhooks", json=body, headers=store.headers))
    with db.transaction() as session:
        session.execute(
            text("UPDATE webhook_subscriptions SET secret_sealed = 'legacy' WHERE public_id = :id"),
            {"id": created["id"]},
        )
    with db.read() as session:
        row = session.query(WebhookSubscription).filter_by(public_id=created["id"]).one()
        assert row.secret == "legacy"
    with db.write_connection() as connection:
        assert sealing.reseal(connection) >= 1
    raw = stored(db, "webhook_subscriptions", "public_id = :id", id=created["id"])
    assert raw.startswith("enc:v1:") and "legacy" not in raw
    with db.read() as session:
        row = session.query(WebhookSubscription).filter_by(public_id=created["id"]).one()
        assert row.secret == "legacy"


def test_rotation_reads_old_values_and_reseals_them_under_the_new_key(
    client: TestClient, db: Database, store: StoreFixture, settings: Settings
) -> None:
    body = {"target": "https://93.184.215.14/r", "events": ["order_created"], "secret": "rotate"}
    created = json_of(client.post("/v1/webhooks", json=body, headers=store.headers))
    old = sealing.keyring()
    new_key = Fernet.generate_key().decode()
    rotated = sealing.Keyring([new_key.encode(), settings.secret_keys.encode()])
    try:
        sealing.configure(rotated)
        with db.read() as session:
            row = session.query(WebhookSubscription).filter_by(public_id=created["id"]).one()
            assert row.secret == "rotate"
        with db.write_connection() as connection:
            assert sealing.reseal(connection) >= 1
        raw = stored(db, "webhook_subscriptions", "public_id = :id", id=created["id"])
        assert rotated.is_current(raw) and not old.is_current(raw)
        # The old key alone can no longer read it: that is what retiring a key means.
        with pytest.raises(sealing.SecretKeyError):
            old.decrypt(raw)
        # Back to the session's key (every other test's rows are under it).
        sealing.configure(sealing.Keyring([settings.secret_keys.encode(), new_key.encode()]))
        with db.write_connection() as connection:
            sealing.reseal(connection)
    finally:
        sealing.configure(old)


def test_a_missing_key_file_is_generated_for_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'shop.db'}")
    assert sealing.key_file_path(settings) == tmp_path / "cartwheel-secret.key"
    first = sealing.load_keyring(settings)
    path = tmp_path / "cartwheel-secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = sealing.load_keyring(settings)  # the same key, read back
    assert again.decrypt(first.encrypt("x")) == "x"


def test_the_sqlite_file_is_created_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    database = Database(f"sqlite:///{path}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    database.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
