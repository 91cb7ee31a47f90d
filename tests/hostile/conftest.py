"""One store per module and engine with a record of each kind, for the path parameters:
creating them (a member's password hash, a webhook) per test would cost most of the time."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cartwheel.db import Database
from tests.conftest import make_store
from tests.hostile.catalog import Targets


@pytest.fixture(scope="module")
def targets(client: TestClient, db: Database) -> Targets:
    return Targets(client, make_store(db, "hostile"))
