"""The OpenAPI document is the manual: every people-side operation is in it, with the
document's examples and a description on every field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

OPERATIONS = [
    ("get", "/v1/contacts"),
    ("post", "/v1/contacts"),
    ("get", "/v1/contacts/{contact_id}"),
    ("put", "/v1/contacts/{contact_id}"),
    ("delete", "/v1/contacts/{contact_id}"),
    ("get", "/v1/members"),
    ("post", "/v1/members"),
    ("get", "/v1/members/{member_id}"),
    ("put", "/v1/members/{member_id}"),
    ("post", "/v1/members/sso"),
    ("get", "/v1/members/sso/redeem"),
    ("get", "/v1/member-groups"),
    ("post", "/v1/member-groups"),
    ("get", "/v1/member-groups/{group_id}"),
    ("put", "/v1/member-groups/{group_id}"),
    ("delete", "/v1/member-groups/{group_id}"),
    ("get", "/v1/form-submissions"),
    ("post", "/v1/forms/{name}/submissions"),
    ("get", "/v1/bookings"),
    ("post", "/v1/bookings"),
    ("get", "/v1/subscriber-lists"),
    ("post", "/v1/subscriber-lists"),
    ("get", "/v1/subscriber-lists/{list_id}"),
    ("put", "/v1/subscriber-lists/{list_id}"),
    ("delete", "/v1/subscriber-lists/{list_id}"),
    ("get", "/v1/subscriber-lists/{list_id}/contacts"),
    ("post", "/v1/subscriber-lists/{list_id}/contacts"),
    ("delete", "/v1/subscriber-lists/{list_id}/contacts/{contact_id}"),
]
SCHEMAS = [
    "Contact",
    "ContactCreate",
    "ContactUpdate",
    "ContactProperty",
    "ContactPropertyInput",
    "Member",
    "MemberCreate",
    "MemberUpdate",
    "Address",
    "MemberGroup",
    "MemberGroupCreate",
    "SsoRequest",
    "SsoToken",
    "FormSubmission",
    "FormSubmissionCreate",
    "Booking",
    "BookingCreate",
    "SubscriberList",
    "SubscriberListCreate",
    "SubscriberListContacts",
]


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    app = client.app
    assert isinstance(app, FastAPI)
    return app.openapi()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_is_documented(document: dict[str, Any], method: str, path: str) -> None:
    operation = document["paths"][path][method]
    assert operation["description"] or operation["summary"]
    statuses = set(operation["responses"])
    assert statuses & {"200", "201", "204"}
    if method in ("post", "put"):
        content = operation["requestBody"]["content"]["application/json"]
        assert content["examples"], path
        assert content["schema"]["$ref"].startswith("#/components/schemas/")


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_field_is_described(document: dict[str, Any], name: str) -> None:
    schema = document["components"]["schemas"][name]
    for field, spec in schema["properties"].items():
        assert spec.get("description"), f"{name}.{field}"


def test_responses_carry_the_documents_examples(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["Contact"]["examples"][0]["createdOn"] == 1573240303
    assert schemas["Member"]["examples"][0]["registeredOn"] == 1587489771
    assert schemas["SubscriberList"]["examples"][0]["id"] == 87647751
    assert schemas["Booking"]["examples"][0]["eventId"] == 98146
    assert schemas["SsoToken"]["examples"][0]["token"] == "xxxxx.xxxxx.xxxxx"
