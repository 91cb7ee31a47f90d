"""Hostile path parameters on every operation that has one, body-less writes (DELETE, pause,
replay, undo…) included: never a 5xx, always the endpoint's own error shape, and a refused
request changes no row of the store."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.db import Database
from tests.conftest import StoreFixture
from tests.hostile.catalog import Endpoint, Targets, _document, assert_error_shape, row_counts

#: Already URL-encoded where they need to be.
HOSTILE = [
    "0",
    "-1",
    "2147483648",
    "9223372036854775808",
    "1" + "0" * 400,
    "1e309",
    "NaN",
    "abc",
    "%00",
    "%0D%0ABcc:%20x",
    "%E2%80%A8",
    "%F0%9F%92%A9",
    "%ED%A0%80",  # a lone surrogate, as UTF-8 bytes
    "%FF",  # not UTF-8 at all
    "%C2%B2",  # a superscript two: a digit to str.isdigit, not to int()
    "x" * 5000,
    "9" * 5000,  # more digits than int() converts by default
]


def operations() -> list[tuple[Endpoint, str]]:
    found = []
    for path, methods in _document()["paths"].items():
        for name in re.findall(r"\{([^}:]+)", path):
            for method in methods:
                if method in ("get", "post", "put", "patch", "delete"):
                    found.append((Endpoint(method.upper(), path, None), name))
    return found


@pytest.mark.parametrize(
    ("endpoint", "parameter"), operations(), ids=lambda x: x.id if isinstance(x, Endpoint) else x
)
def test_a_hostile_path_parameter_is_a_clear_4xx(
    client: TestClient, db: Database, store: StoreFixture, endpoint: Endpoint, parameter: str
) -> None:
    targets = Targets(client, store)
    before = row_counts(db, store)
    for value in HOSTILE:
        # The other parameters name real records of the store.
        url = _substitute(endpoint.path, parameter, value, targets)
        body: Any = {} if endpoint.method in ("POST", "PUT", "PATCH") else None
        response = client.request(
            endpoint.method, url, json=body, headers=targets.headers(endpoint)
        )
        if response.status_code < 400:
            continue  # e.g. a form name is any text: an empty form is a valid answer
        assert_error_shape(endpoint, response)
    assert row_counts(db, store) == before


def _substitute(path: str, parameter: str, value: str, targets: Targets) -> str:
    """``path`` with ``value`` for ``parameter`` and the store's real records for the rest."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return value if name == parameter else targets.value_for(path, name)

    return re.sub(r"\{([^}]+)\}", fill, path)
