"""A database of its own per test: these tests drive the global queues with stand-in
processors, which must not consume other tests' pending work."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cartwheel.db import Database
from cartwheel.migrate import migrate


@pytest.fixture
def own_db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'own.db'}"
        database = Database(url)
        migrate(database.engine)
        yield database
        database.dispose()
        return
    server = database_url.rsplit("/", 1)[0]
    name = f"cartwheel_worker_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = Database(f"{server}/{name}")
    migrate(database.engine)
    yield database
    database.dispose()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
