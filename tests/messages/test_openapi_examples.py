"""Every messaging endpoint shows an example of what it takes and what it answers: the
OpenAPI document is walked for each operation the messaging routers serve, and an operation
whose request body or success response body has no example fails the test."""

from __future__ import annotations

from typing import Any

from cartwheel.app import create_app
from cartwheel.config import Settings
from cartwheel.messages import endpoints, public


def _operations() -> list[tuple[str, str]]:
    return sorted(
        (route.path, method.lower())
        for router in (endpoints.router, public.router)
        for route in router.routes
        for method in getattr(route, "methods", ())
    )


def _has_example(node: Any, schemas: dict[str, Any]) -> bool:
    if not isinstance(node, dict):
        return False
    if node.get("example") is not None or node.get("examples"):
        return True
    ref = node.get("$ref")
    return isinstance(ref, str) and _has_example(schemas[ref.rsplit("/", 1)[1]], schemas)


def _content_has_example(content: dict[str, Any], schemas: dict[str, Any]) -> bool:
    return all(
        media.get("example") is not None
        or bool(media.get("examples"))
        or _has_example(media.get("schema"), schemas)
        for media in content.values()
    )


def missing_examples(document: dict[str, Any], operations: list[tuple[str, str]]) -> list[str]:
    schemas = document.get("components", {}).get("schemas", {})
    missing: list[str] = []
    for path, method in operations:
        operation = document["paths"][path][method]
        body = operation.get("requestBody")
        if body is not None and not _content_has_example(body.get("content", {}), schemas):
            missing.append(f"{method.upper()} {path}: request body")
        for status, response in operation.get("responses", {}).items():
            content = response.get("content")
            if status.startswith("2") and content and not _content_has_example(content, schemas):
                missing.append(f"{method.upper()} {path}: {status} response")
    return missing


def test_every_messaging_operation_has_request_and_response_examples() -> None:
    document = create_app(Settings(database_url="sqlite:///:memory:")).openapi()
    operations = _operations()
    # The walk covers the whole messaging API (the routers' routes are all in the document).
    assert len(operations) >= 23
    assert all(path in document["paths"] for path, _ in operations)
    assert missing_examples(document, operations) == []


def test_the_walk_finds_an_operation_without_an_example() -> None:
    document = {
        "paths": {
            "/v1/x": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/c/A"}}}},
                    "responses": {
                        "200": {"content": {"text/html": {"schema": {"type": "string"}}}}
                    },
                }
            }
        },
        "components": {"schemas": {"A": {"type": "object"}}},
    }
    assert missing_examples(document, [("/v1/x", "post")]) == [
        "POST /v1/x: request body",
        "POST /v1/x: 200 response",
    ]
