"""Run Alembic migrations programmatically (``cartwheel migrate`` and server start-up)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to every head revision (domains may add independent branches)."""
    run(engine, lambda config: command.upgrade(config, "heads"))


def run(engine: Engine, change: Callable[[Config], None]) -> None:
    """Run an Alembic command in one transaction.

    On SQLite the migrations run with foreign keys off, as SQLite's documentation asks for
    a table rebuilt by copying (Alembic's batch mode): with them on, dropping the old table
    deletes its rows first and cascades into the tables that refer to it. The keys are
    checked before the transaction commits, and any violation rolls it back."""
    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Outside any transaction (inside one SQLite ignores it): on the driver's
            # connection, which db.py keeps in autocommit until a BEGIN.
            _pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                change(config)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                _pragma(connection, "PRAGMA foreign_keys=ON")


def _pragma(connection: Connection, statement: str) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(statement)
