"""Hostile input on every write endpoint of every format, on both engines: nesting, huge and
special numbers, control characters, invalid UTF-8, lone surrogates, wrong types and
over-long values, in place of one field of the document's example or as the whole body.

Every answer must be below 500 and in the endpoint's own error shape; a refused request
must leave every store-owned table's row count as it was (no half-written record)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cartwheel.db import Database
from tests.hostile.catalog import (
    Endpoint,
    Targets,
    assert_error_shape,
    nested,
    row_counts,
    write_endpoints,
)

#: Examples per endpoint: 32 endpoints take about 15 seconds per engine on 2 cores.
MAX_EXAMPLES = 25

_PLACEHOLDER = '"\\u0001HOSTILE\\u0001"'


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


#: JSON text (bytes) that is hostile wherever a value goes.
numbers = st.sampled_from(
    [b"1e309", b"-1e309", b"-0", b"-0.0", b"NaN", b"Infinity", b"1e-400", b"0.1e99999"]
    + [str(n).encode() for n in (2**63, 2**64, -(2**63) - 1, 10**30, 10**400)]
)
control_strings = st.text(
    alphabet=st.characters(codec="utf-8", max_codepoint=0x9F, exclude_categories=["Cs"]),
    min_size=1,
    max_size=8,
).map(_json)
raw_strings = st.sampled_from(
    [
        b'"\\ud800"',  # a lone high surrogate
        b'"\\udfff x"',  # a lone low surrogate
        b'"a\\ud800\\u0041"',
        b'"\xff\xfe"',  # invalid UTF-8
        b'"\xc3\x28"',
        b'"\xed\xa0\x80"',  # a surrogate encoded in UTF-8
        b'"\\u0000"',
        b'"a\\r\\nX-Injected: 1"',
    ]
)
wrong_types = st.sampled_from([b"null", b"true", b"[]", b"{}", b"[1, 2]", b'{"a": 1}', b"0", b'""'])
long_strings = st.sampled_from([301, 321, 1001, 70_000, 110_000]).map(lambda n: _json("x" * n))
deep_values = st.sampled_from([31, 33, 56, 63, 65, 200]).map(lambda n: _json(nested(n)))
hostile_values = st.one_of(
    numbers, control_strings, raw_strings, wrong_types, long_strings, deep_values
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a hostile value may go (two levels down at most)."""
    found: list[tuple[Any, ...]] = []
    if len(prefix) >= 3:
        return found
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value[:1]))
    else:
        return found
    for key, item in items:
        found.append((*prefix, key))
        found.extend(_paths(item, (*prefix, key)))
    return found


def _spoil(example: Any, path: tuple[Any, ...], fragment: bytes) -> bytes:
    """``example`` as JSON with the value at ``path`` replaced by ``fragment`` (raw)."""
    copy = json.loads(json.dumps(example))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "\x01HOSTILE\x01"
    return json.dumps(copy).encode().replace(_PLACEHOLDER.encode(), fragment)


def bodies(endpoint: Endpoint) -> st.SearchStrategy[bytes]:
    example = endpoint.example
    whole = st.one_of(hostile_values, st.binary(max_size=64))
    places = _paths(example)
    if not places:
        return whole
    spoiled = st.builds(_spoil, st.just(example), st.sampled_from(places), hostile_values)
    added = hostile_values.map(lambda fragment: _spoil(example, ("extra",), fragment))
    return st.one_of(spoiled, spoiled, added, whole)


@pytest.mark.parametrize("endpoint", write_endpoints(), ids=lambda e: e.id)
def test_hostile_input_never_breaks_an_endpoint(
    db: Database, targets: Targets, endpoint: Endpoint
) -> None:
    @given(body=bodies(endpoint))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(body: bytes) -> None:
        before = row_counts(db, targets.store)
        response = targets.send(endpoint, body)
        note = f"{endpoint.id}: {body[:300]!r} -> {response.status_code} {response.text[:300]}"
        assert response.status_code < 500, note
        if response.status_code >= 400:
            assert_error_shape(endpoint, response)
            assert row_counts(db, targets.store) == before, note

    check()
