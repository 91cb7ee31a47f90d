"""The OpenAPI document is the flows API's manual: every operation the issue names is in
it, each request body with examples, each answer's schema (a page's items) with examples
that its own model accepts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from cartwheel.flows import schemas

OPERATIONS = {
    ("post", "/v1/flows"),
    ("get", "/v1/flows"),
    ("get", "/v1/flows/{flow_id}"),
    ("put", "/v1/flows/{flow_id}"),
    ("delete", "/v1/flows/{flow_id}"),
    ("post", "/v1/flows/{flow_id}/publish"),
    ("post", "/v1/flows/{flow_id}/pause"),
    ("post", "/v1/flows/{flow_id}/resume"),
    ("get", "/v1/flows/{flow_id}/runs"),
    ("get", "/v1/flow-runs/{run_id}"),
    ("get", "/v1/flows/{flow_id}/stats"),
    ("post", "/v1/flows/{flow_id}/test"),
    ("post", "/v1/flows/ready/{name}"),
}
MODELS: dict[str, type[BaseModel]] = {
    "Flow": schemas.Flow,
    "FlowRun": schemas.FlowRun,
    "FlowRunDetail": schemas.FlowRunDetail,
    "FlowStats": schemas.FlowStats,
}


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    app = client.app
    assert isinstance(app, FastAPI)
    return app.openapi()


def _schema(document: dict[str, Any], ref: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = ref["$ref"].rsplit("/", 1)[1]
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return name, schema


def flows_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, operations in document["paths"].items()
        if path.startswith(("/v1/flows", "/v1/flow-runs"))
        for method in operations
    }


def test_the_document_has_exactly_the_issues_operations(document: dict[str, Any]) -> None:
    assert flows_operations(document) == OPERATIONS


@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_every_operation_has_examples(document: dict[str, Any], method: str, path: str) -> None:
    operation = document["paths"][path][method]
    assert operation.get("description") or operation.get("summary")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        assert body["examples"], (method, path)
        for example in body["examples"].values():
            assert example["value"] is not None
    answers = [r for code, r in operation["responses"].items() if code.startswith("2")]
    assert answers, (method, path)
    content = answers[0].get("content", {}).get("application/json")
    if content is None:
        assert method == "delete"  # 204: nothing to show
        return
    name, schema = _schema(document, content["schema"])
    if name.startswith("Page_"):
        name, schema = _schema(document, schema["properties"]["items"]["items"])
    assert schema.get("examples"), (method, path, name)
    # The model's own examples (the document drops their null fields) are answers it makes.
    model = MODELS[name]
    for example in model.model_json_schema()["examples"]:
        model.model_validate(example)
