"""A request body nested deeper than ``MAX_BODY_DEPTH`` is a 400 in the format's own shape
on every write endpoint, on both engines (issue 8 item 1)."""

from __future__ import annotations

import json

import pytest

from cartwheel.db import Database
from cartwheel.kit.body import MAX_BODY_DEPTH, TooDeep, check_depth
from tests.hostile.catalog import (
    Endpoint,
    Targets,
    assert_error_shape,
    row_counts,
    write_endpoints,
)

WRITES = write_endpoints()


# -- item 1: a body nested 1,000 deep is a 400 in the format's shape -----------------------


@pytest.mark.parametrize("endpoint", WRITES, ids=lambda e: e.id)
@pytest.mark.parametrize("depth", [500, 1000])
def test_a_deeply_nested_body_is_refused_in_the_formats_shape(
    db: Database, targets: Targets, endpoint: Endpoint, depth: int
) -> None:
    before = row_counts(db, targets.store)
    whole = b"[" * depth + b"]" * depth
    inside = json.dumps({**endpoint.example, "deep": "HERE"}).encode()
    inside = inside.replace(b'"HERE"', whole)
    for body in (whole, inside):
        response = targets.send(endpoint, body)
        assert_error_shape(endpoint, response)
        assert "nested deeper than 64 levels" in response.text, response.text
    assert row_counts(db, targets.store) == before


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (b"[" * MAX_BODY_DEPTH + b"]" * MAX_BODY_DEPTH, False),
        (b"[" * (MAX_BODY_DEPTH + 1) + b"]" * (MAX_BODY_DEPTH + 1), True),
        (b'{"a": "' + b"[" * 500 + b'"}', False),  # brackets in a string count for nothing
        (b'{"a": "\\"' + b"[" * 500 + b'"}', False),  # nor after an escaped quote
        (b'{"a": "\\\\", "b": ' + b"[" * 500 + b"1" + b"]" * 500 + b"}", True),
        (b"{" * 70, True),  # unclosed: still too deep
        (b'"' + b"\\" * 10 + b"[" * 500, False),  # an unterminated string
    ],
)
def test_the_depth_scan_reads_strings_as_json_does(body: bytes, deep: bool) -> None:
    if deep:
        with pytest.raises(TooDeep):
            check_depth(body)
    else:
        check_depth(body)
