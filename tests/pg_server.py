"""A PostgreSQL server for the test suite.

``CARTWHEEL_TEST_POSTGRES_URL`` (a server URL, e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``)
names a running server, as ``.ci/run`` provides. Without it, a throwaway cluster is started
with the local ``initdb``/``pg_ctl`` (Debian's ``postgresql`` package) on a free loopback
port and removed afterwards. Each test session gets a fresh database either way.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    # Below 32768 so it never collides with ephemeral ports of load tests.
    for port in range(25432, 32000, 7):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for PostgreSQL")


@contextmanager
def _throwaway_cluster() -> Iterator[str]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError(
            "PostgreSQL is not installed: install Debian's `postgresql` package "
            "or set CARTWHEEL_TEST_POSTGRES_URL"
        )
    workdir = tempfile.mkdtemp(prefix="cartwheel-pg-")
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(workdir, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(workdir, "data")
    port = _free_port()
    subprocess.run(
        [*run_as, initdb, "-D", data, "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            pg_ctl,
            "-D",
            data,
            "-w",
            "-l",
            os.path.join(workdir, "log"),
            "-o",
            f"-h 127.0.0.1 -p {port} -k {workdir} -c max_connections=200",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A URL of a fresh, empty database, dropped afterwards."""
    server = os.environ.get("CARTWHEEL_TEST_POSTGRES_URL")
    with _nothing(server) if server else _throwaway_cluster() as admin_url:
        name = f"cartwheel_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.rsplit("/", 1)[0] + "/" + name
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _nothing(value: str) -> Iterator[str]:
    yield value
