"""An origin is exactly scheme, host and optional port, on both public endpoints (issue 8
item 8)."""

from __future__ import annotations

import json

import pytest

from cartwheel.db import Database
from tests.hostile.catalog import (
    Targets,
    assert_error_shape,
    row_counts,
    write_endpoints,
)

WRITES = write_endpoints()


# -- item 8: an origin is exactly scheme, host and optional port ---------------------------

BAD_ORIGINS = [
    "https://shop.example.com/x",
    "https://shop.example.com/",
    "https://shop.example.com?x=1",
    "https://shop.example.com#x",
    "https://user@shop.example.com",
    "shop.example.com/x",
    "https://shop.example.com:443/x",
    "https://shop.example.com\\x",
]


@pytest.mark.parametrize("origin", BAD_ORIGINS)
@pytest.mark.parametrize("path", ["/client/v1/events", "/v1/forms/{name}/submissions"])
def test_an_origin_with_anything_after_host_and_port_is_refused(
    db: Database, targets: Targets, path: str, origin: str
) -> None:
    endpoint = next(e for e in WRITES if e.path == path)
    before = row_counts(db, targets.store)
    response = targets.client.post(
        targets.url(path),
        content=json.dumps(endpoint.example).encode(),
        headers={**targets.headers(endpoint), "Origin": origin},
    )
    assert response.status_code == 403, response.text
    assert "Access-Control-Allow-Origin" not in response.headers
    assert_error_shape(endpoint, response)
    preflight = targets.client.options(
        targets.url(path), headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert row_counts(db, targets.store) == before
    allowed = targets.send(endpoint, json.dumps(endpoint.example).encode())
    assert allowed.status_code < 300, allowed.text
    assert allowed.headers["Access-Control-Allow-Origin"] == targets.store.allowed_origin
