"""Every write endpoint and every paginated list, read from the app's own OpenAPI document
(so an endpoint added later is covered without touching this file), with what a hostile
test needs: a valid body to spoil, the credential, the error shape, and a row count."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from cartwheel import models
from cartwheel.app import create_app
from cartwheel.db import Database
from tests.conftest import StoreFixture

#: The public endpoints, called with the store's client credential from its allowed origin.
PUBLIC = ("/client/v1/events", "/v1/forms/{name}/submissions")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    #: The document's example body, or None when the operation takes no body.
    example: Any

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        return self.path in PUBLIC


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = create_app(runtime=None, run_worker=False).openapi()
    return document


def _example(operation: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    if "example" in content:
        return content["example"]
    examples = content.get("examples") or {}
    return next(iter(examples.values()))["value"] if examples else {}


def write_endpoints(*, with_body: bool = True) -> list[Endpoint]:
    """Every POST/PUT operation (only those taking a JSON body when ``with_body``)."""
    found = []
    for path, operations in _document()["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue
            endpoint = Endpoint(method.upper(), path, _example(operation))
            if endpoint.example is not None or not with_body:
                found.append(endpoint)
    return found


def paginated_lists() -> list[str]:
    """Every GET operation taking ``skip``."""
    return [
        path
        for path, operations in _document()["paths"].items()
        if any(p["name"] == "skip" for p in operations.get("get", {}).get("parameters", []))
    ]


def _enum(path: str, name: str) -> str | None:
    for operation in _document()["paths"][path].values():
        for parameter in operation.get("parameters", []):
            if parameter["name"] == name and "enum" in parameter.get("schema", {}):
                return str(parameter["schema"]["enum"][0])
    return None


class Targets:
    """Records of one store for the path parameters, created through the API."""

    def __init__(self, client: TestClient, store: StoreFixture) -> None:
        self.client, self.store = client, store
        self.ids: dict[str, str] = {"storeId": str(store.store_id), "name": "Contact form"}
        self.ids["contact_id"] = self._create("/v1/contacts", {"email": "target@x.io"})
        self.ids["member_id"] = self._create(
            "/v1/members", {"name": "T", "email": "member@x.io", "password": "a-long-password"}
        )
        self.ids["group_id"] = self._create("/v1/member-groups", {"name": "Target group"})
        self.ids["list_id"] = self._create("/v1/subscriber-lists", {"name": "Target list"})
        self.ids["id"] = self._create(
            "/v1/products", {"type": "physical", "title": "Target", "url": "target"}
        )
        self.ids["webhook_id"] = self._create(
            "/v1/webhooks", {"target": "https://127.0.0.1:9/hook", "events": ["order_created"]}
        )

    def _create(self, path: str, body: dict[str, Any]) -> str:
        response = self.client.post(path, json=body, headers=self.store.headers)
        assert response.status_code in (200, 201), (path, response.text)
        return str(response.json()["id"])

    def value_for(self, path: str, name: str) -> str:
        """What a path parameter names: an enum's first value, or one of the store's records."""
        return _enum(path, name) or self.ids.get(name, "1")

    def url(self, path: str) -> str:
        def value(match: re.Match[str]) -> str:
            return self.value_for(path, match.group(1).split(":")[0])

        return re.sub(r"\{([^}]+)\}", value, path)

    def headers(self, endpoint: Endpoint) -> dict[str, str]:
        credential = self.store.client_headers() if endpoint.public else dict(self.store.headers)
        return {**credential, "Content-Type": "application/json"}

    def send(self, endpoint: Endpoint, body: bytes) -> Response:
        return self.client.request(
            endpoint.method, self.url(endpoint.path), content=body, headers=self.headers(endpoint)
        )


def nested(depth: int, leaf: Any = 1) -> Any:
    """``leaf`` inside ``depth`` levels of arrays and objects, alternating."""
    value = leaf
    for index in range(depth):
        value = {"k": value} if index % 2 else [value]
    return value


def example_bytes(endpoint: Endpoint) -> bytes:
    return json.dumps(endpoint.example).encode()


# -- what an answer must look like ---------------------------------------------------------


def _documents_html(endpoint: Endpoint, status: int) -> bool:
    operation = _document()["paths"][endpoint.path][endpoint.method.lower()]
    content = operation.get("responses", {}).get(str(status), {}).get("content", {})
    return "text/html" in content


def assert_error_shape(endpoint: Endpoint, response: Response) -> None:
    """``response`` is an error in the endpoint's own documented shape and content type."""
    status = response.status_code
    assert 400 <= status < 500, (endpoint.id, status, response.text[:300])
    content_type = response.headers.get("content-type", "")
    path = endpoint.path
    if _documents_html(endpoint, status):  # a page for people (the links in messages)
        assert content_type.startswith("text/html"), (endpoint.id, content_type)
        return
    if path.startswith("/stores/"):  # Redo: RFC 7807
        assert content_type.startswith(("application/json", "application/problem+json"))
        body = response.json()
        assert {"title", "status"} <= body.keys() and body["status"] == status, body
        return
    assert content_type.startswith("application/json"), (endpoint.id, content_type)
    body = response.json()
    if path.startswith("/api/"):  # Lindris: Laravel
        assert isinstance(body["message"], str), body
        assert status != 422 or isinstance(body["errors"], dict), body
    elif path == "/v5/events":  # Omnisend
        assert {"error", "statusCode"} <= body.keys() and body["statusCode"] == status, body
    elif path == "/client/v1/events":  # Voucherify
        assert {"code", "key", "message"} <= body.keys() and body["code"] == status, body
    else:  # native and the store data API
        assert body["success"] is False and isinstance(body["message"], str), body


# -- row counts --------------------------------------------------------------------------------

_COUNTED = [
    table
    for table in models.Base.metadata.sorted_tables
    if "store_id" in table.c and table.name not in ("api_keys", "client_credentials")
]


def row_counts(db: Database, store: StoreFixture) -> dict[str, int]:
    """How many rows of each store-owned table belong to ``store``."""
    with db.read() as session:
        return {
            table.name: session.execute(
                select(func.count()).select_from(table).where(table.c.store_id == store.store_id)
            ).scalar_one()
            for table in _COUNTED
        }
