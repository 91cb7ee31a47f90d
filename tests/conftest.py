"""Shared fixtures: every test that uses ``db``, ``runtime`` or ``client`` runs twice, on a
real SQLite file and on a real PostgreSQL server, each migrated once per session.

Tests isolate themselves by tenancy rather than by rollback: each test creates its own
store(s) with the ``store`` fixture, so nothing one test writes is visible to another.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from cartwheel.app import build_runtime, create_app
from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.migrate import migrate
from cartwheel.runtime import Runtime
from cartwheel.stores import service as stores
from cartwheel.worker.runner import Worker
from tests.pg_server import postgres_database

ENGINES = ["sqlite", "postgresql"]
TEST_SECRET_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    """An empty database of its own on the test PostgreSQL server (for a test that needs
    what no other test may touch: its own schema history, its own statistics)."""
    server = postgres_url.rsplit("/", 1)[0]
    name = f"cartwheel_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'cartwheel.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # Tests raise the rate limit so they never trip it by accident; rate-limit tests set
    # a store's own limit instead.
    return Settings(
        database_url=database_url,
        rate_limit_per_second=1_000_000,
        run_worker_in_process=False,
        webhook_allow_private=True,
        # One key for both engines: the keyring is process-wide (cartwheel/sealing.py).
        secret_keys=TEST_SECRET_KEY,
    )


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    migrate(database.engine)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def runtime(settings: Settings, db: Database) -> Iterator[Runtime]:
    rt = build_runtime(settings, db)
    rt.writer.start()
    yield rt
    rt.writer.stop()


@pytest.fixture(scope="session")
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime=runtime, run_worker=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def worker(runtime: Runtime) -> Worker:
    """The runtime's worker, for tests to run queued work with ``worker.drain()``."""
    return runtime.worker


@dataclass(frozen=True)
class StoreFixture:
    store_id: int
    api_key: str
    client_application_id: str
    client_token: str
    allowed_origin: str
    #: The store's write key (the tracking spec's: sending events only).
    write_key: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def write_headers(self) -> dict[str, str]:
        """HTTP Basic with the write key as user name, as the tracking libraries send it."""
        token = base64.b64encode(f"{self.write_key}:".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def client_headers(self, origin: str | None = None) -> dict[str, str]:
        return {
            "X-Client-Application-Id": self.client_application_id,
            "X-Client-Token": self.client_token,
            "Origin": origin or self.allowed_origin,
        }


def make_store(db: Database, name: str = "test store") -> StoreFixture:
    origin = "https://shop.example.com"
    with db.transaction() as session:
        created = stores.create_store(session, name, [origin])
    return StoreFixture(
        created.store_id,
        created.api_key,
        created.client_application_id,
        created.client_token,
        origin,
        created.write_key,
    )


@pytest.fixture
def store(db: Database) -> StoreFixture:
    return make_store(db, "store A")


@pytest.fixture
def other_store(db: Database) -> StoreFixture:
    """A second tenant, for proving that one store sees nothing of another."""
    return make_store(db, "store B")


def engine_name(db: Database) -> str:
    return db.engine.dialect.name


@pytest.fixture
def tmp_sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scratch.db'}"


def json_of(response: Any) -> Any:
    """The JSON body of a response, with the status in the assertion message on failure."""
    assert response.headers.get("content-type", "").startswith(
        ("application/json", "application/problem+json")
    ), (response.status_code, response.text)
    return response.json()
