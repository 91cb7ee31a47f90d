"""The documented native schema (pydantic, for OpenAPI) matches the one that validates
(msgspec), and the OpenAPI document describes both endpoints with examples."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi.testclient import TestClient
from pydantic import BaseModel

from cartwheel.wire.native.schemas import (
    BatchAccepted,
    BatchAcceptedView,
    BatchItem,
    BatchItemView,
    EventAccepted,
    EventAcceptedView,
    NativeBatch,
    NativeBatchBody,
    NativeContact,
    NativeContactBody,
    NativeEvent,
    NativeEventBody,
)

PAIRS: list[tuple[type[msgspec.Struct], type[BaseModel]]] = [
    (NativeEvent, NativeEventBody),
    (NativeContact, NativeContactBody),
    (NativeBatch, NativeBatchBody),
    (EventAccepted, EventAcceptedView),
    (BatchItem, BatchItemView),
    (BatchAccepted, BatchAcceptedView),
]


def wire_names(struct: type[msgspec.Struct]) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(struct)]


def required_wire_names(struct: type[msgspec.Struct]) -> set[str]:
    return {f.encode_name for f in msgspec.structs.fields(struct) if f.required}


def test_documented_field_names_equal_the_validated_ones() -> None:
    for struct, model in PAIRS:
        assert sorted(wire_names(struct)) == sorted(model.model_fields), struct.__name__


def test_documented_required_fields_equal_the_validated_ones() -> None:
    for struct, model in PAIRS[:3]:
        documented = {name for name, field in model.model_fields.items() if field.is_required()}
        assert documented == required_wire_names(struct), struct.__name__


def test_the_openapi_document_describes_both_endpoints(client: TestClient) -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for path, body in (("/v1/events", "NativeEventBody"), ("/v1/events/batch", "NativeBatchBody")):
        operation = document["paths"][path]["post"]
        content = operation["requestBody"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{body}"}
        assert content["examples"], path
        assert operation["description"] and operation["security"] == [{"HTTPBearer": []}]
        assert {"202", "401", "413", "422", "429"} <= set(operation["responses"])
    event = schemas["NativeEventBody"]
    assert set(event["properties"]) == set(wire_names(NativeEvent))
    assert event["required"] == ["name", "contact"]
    for name, field in event["properties"].items():
        assert field.get("description"), name
    contact = schemas["NativeContactBody"]
    for name, field in contact["properties"].items():
        assert field.get("description"), name
