"""The adapter contract: every format is a package with the same files run by one pipeline,
which counts the ingested-events metric by one rule; no answer depends on msgspec's text."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from msgspec import Meta
from prometheus_client import REGISTRY

from cartwheel.kit.structure import Problem, decode_loose, first_problem
from cartwheel.wire.pipeline import Pipeline
from tests.conftest import StoreFixture

WIRE = Path(__file__).resolve().parents[2] / "src" / "cartwheel" / "wire"
ADAPTER_FILES = {
    "__init__.py",
    "adapter.py",
    "decode.py",
    "mapping.py",
    "answers.py",
    "errors.py",
    "schemas.py",
    "endpoints.py",
}
FORMATS = sorted(p.name for p in WIRE.iterdir() if p.is_dir() and p.name != "__pycache__")


def test_every_format_is_a_package_with_the_same_files() -> None:
    assert FORMATS == ["lindris", "native", "omnisend", "redo", "segment", "voucherify"]
    for name in FORMATS:
        files = {p.name for p in (WIRE / name).glob("*.py")}
        assert files >= ADAPTER_FILES, (name, ADAPTER_FILES - files)


@pytest.mark.parametrize("name", FORMATS)
def test_every_endpoint_module_runs_the_pipeline(name: str) -> None:
    module = __import__(f"cartwheel.wire.{name}.endpoints", fromlist=["PIPELINE"])
    assert isinstance(module.PIPELINE, Pipeline)
    assert module.PIPELINE.adapter.name == name


def test_no_adapter_reads_msgspec_error_text() -> None:
    """A msgspec ValidationError is never bound to a name in the wire formats or kit (its
    text is never read): answers come from typed structural checks."""
    for path in [*WIRE.rglob("*.py"), *(WIRE.parent / "kit").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.name is not None:
                caught = ast.unparse(node.type or node)
                assert "msgspec.ValidationError" not in caught, path


# -- the metric ------------------------------------------------------------------------------


def _ingested(wire: str) -> float:
    return REGISTRY.get_sample_value("cartwheel_events_ingested_total", {"wire": wire}) or 0.0


def _send(client: TestClient, store: StoreFixture, wire: str, key: str) -> Response:
    email = f"{key}@example.com"
    if wire == "native":
        body = {"name": "x", "dedupKey": key, "contact": {"email": email}}
        return client.post("/v1/events", json=body, headers=store.headers)
    if wire == "redo":
        body = {"eventName": "x", "uniqueId": key, "customer": {"email": email}}
        return client.post(f"/stores/{store.store_id}/events", json=body, headers=store.headers)
    if wire == "omnisend":
        body = {
            "eventName": "x",
            "origin": "api",
            "eventID": str(uuid5(NAMESPACE_URL, key)),
            "eventTime": "2026-04-02T12:00:00Z",
            "contact": {"email": email},
        }
        return client.post("/v5/events", json=body, headers=store.headers)
    if wire == "lindris":
        body = {"eventName": "x", "email": email, "source": "shop"}
        return client.post("/api/events", json=body, headers=store.headers)
    if wire == "segment":
        body = {"batch": [{"type": "track", "event": "x", "userId": key, "messageId": key}]}
        return client.post("/v1/batch", json=body, headers=store.write_headers)
    body = {"event": "x", "customer": {"email": email}}
    return client.post("/client/v1/events", json=body, headers=store.client_headers())


@pytest.mark.parametrize("wire", FORMATS)
def test_the_metric_counts_each_stored_event_once(
    client: TestClient, store: StoreFixture, wire: str
) -> None:
    before = _ingested(wire)
    response = _send(client, store, wire, f"m-{wire}-{store.store_id}")
    assert response.status_code < 300, response.text
    assert _ingested(wire) == before + 1
    if wire in ("native", "redo", "omnisend", "segment"):  # a retry stores nothing
        assert _send(client, store, wire, f"m-{wire}-{store.store_id}").status_code < 300
        assert _ingested(wire) == before + 1


# -- structural problems ---------------------------------------------------------------------


class _Inner(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=3)]
    when: datetime | None = None


class _Outer(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    name: str
    inner: _Inner
    ref: UUID | None = None
    ext_id: Annotated[str, Meta(min_length=1)] | int | None = None
    count: Annotated[int, Meta(ge=1, le=10)] | None = None
    amount: float | None = None
    tags: list[str] | None = None
    data: dict[str, Any] | None = None


_BASE = b'"name": "n", "inner": {"code": "a"}'


def _with(fragment: bytes) -> bytes:
    """A valid body with ``fragment`` (``"key": value``) added."""
    return b"{" + _BASE + b", " + fragment + b"}"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"[]", Problem("type", (), ("object",))),
        (b'{"inner": {"code": "a"}}', Problem("missing", ("name",))),
        (_with(b'"x": 1'), Problem("unknown", ("x",))),
        (b'{"name": 5, "inner": {}}', Problem("type", ("name",), ("str",))),
        (
            b'{"name": "n", "inner": {"code": ""}}',
            Problem("min_length", ("inner", "code"), bound=1, unit="str"),
        ),
        (
            b'{"name": "n", "inner": {"code": "abcd"}}',
            Problem("max_length", ("inner", "code"), bound=3, unit="str"),
        ),
        (b'{"name": "n", "inner": {}}', Problem("missing", ("inner", "code"))),
        (
            b'{"name": "n", "inner": {"code": "a", "when": "soon"}}',
            Problem("invalid", ("inner", "when"), ("datetime",)),
        ),
        (_with(b'"ref": "nope"'), Problem("invalid", ("ref",), ("uuid",))),
        (_with(b'"extId": 1.5'), Problem("type", ("extId",), ("int", "str", "null"))),
        (_with(b'"count": 0'), Problem("ge", ("count",), bound=1)),
        (_with(b'"count": 11'), Problem("le", ("count",), bound=10)),
        (_with(b'"count": true'), Problem("type", ("count",), ("int", "null"))),
        (_with(b'"amount": "1"'), Problem("type", ("amount",), ("float", "null"))),
        (_with(b'"tags": ["a", 2]'), Problem("type", ("tags", 1), ("str",))),
        (_with(b'"data": {"x": [1e400]}'), Problem("out_of_range", ("data", "x", 0))),
    ],
)
def test_first_problem_is_the_one_msgspec_refuses(body: bytes, problem: Problem) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(body, type=_Outer)
    assert first_problem(_Outer, decode_loose(body)) == problem


def test_a_valid_value_has_no_problem() -> None:
    body = b'{"name": "n", "inner": {"code": "a", "when": "2026-04-02T12:00:00Z"}, "extId": 7,'
    body += b' "count": 3, "amount": 2, "tags": ["a"], "data": {"x": [1.5, null]}}'
    msgspec.json.decode(body, type=_Outer)
    assert first_problem(_Outer, decode_loose(body)) is None
