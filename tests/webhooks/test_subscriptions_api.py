"""The subscriptions API: the document's create example, every validation message,
pagination, update/delete/pause/resume, and tenancy on every endpoint."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import StoreFixture, json_of
from tests.webhooks.conftest import create_webhook

TARGET = "http://127.0.0.1:9/hooks"
DOCUMENT_REQUEST = {"secret": "your-secret", "events": ["order_created", "order_updated"]}


def test_document_example_creates_a_webhook(client: TestClient, store: StoreFixture) -> None:
    response = client.post(
        "/v1/webhooks", json={"target": TARGET, **DOCUMENT_REQUEST}, headers=store.headers
    )
    assert response.status_code == 201
    body = json_of(response)
    # The document's answer: {"id": "rh_…", "secret": "your-secret", "events": [...]}.
    assert body["id"].startswith("rh_") and body["id"][3:].isdigit()
    assert body["secret"] == "your-secret"
    assert body["events"] == ["order_created", "order_updated"]
    assert body["target"] == TARGET
    assert body["status"] == "active"
    assert body["eventNames"] is None and body["disabledReason"] is None


def test_document_example_without_target_is_refused(
    client: TestClient, store: StoreFixture
) -> None:
    # The document's request example omits `target`, which its own schema requires.
    response = client.post("/v1/webhooks", json=DOCUMENT_REQUEST, headers=store.headers)
    assert response.status_code == 422
    assert json_of(response) == {
        "success": False,
        "message": "The target field is required.",
        "errors": {"target": ["The target field is required."]},
    }


def test_secret_is_generated_when_omitted_and_shown_only_once(
    client: TestClient, store: StoreFixture
) -> None:
    created = create_webhook(client, store, TARGET, ["order_created"])
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    shown = client.get(f"/v1/webhooks/{created['id']}", headers=store.headers).json()
    listed = client.get("/v1/webhooks", headers=store.headers).json()["items"][0]
    assert "secret" not in shown and "secret" not in listed
    assert secret not in client.get("/v1/webhooks", headers=store.headers).text


def test_two_webhooks_get_two_secrets(client: TestClient, store: StoreFixture) -> None:
    first = create_webhook(client, store, TARGET, ["order_created"])
    second = create_webhook(client, store, TARGET, ["order_created"])
    assert first["secret"] != second["secret"] and first["id"] != second["id"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"events": ["order_created"]}, "target", "The target field is required."),
        ({"target": 5, "events": ["order_created"]}, "target", "The target must be a string."),
        (
            {"target": "ftp://example.com/x", "events": ["order_created"]},
            "target",
            "The target must be a valid http or https URL.",
        ),
        (
            {"target": "https:///nohost", "events": ["order_created"]},
            "target",
            "The target must be a valid http or https URL.",
        ),
        (
            {"target": "https://exa mple.com/", "events": ["order_created"]},
            "target",
            "The target must be a valid http or https URL.",
        ),
        (
            {"target": "https://example.com:99999/", "events": ["order_created"]},
            "target",
            "The target must be a valid http or https URL.",
        ),
        (
            {"target": "https://example.com/" + "a" * 2048, "events": ["order_created"]},
            "target",
            "The target may not be longer than 2048 characters.",
        ),
        ({"target": TARGET}, "events", "The events field is required."),
        (
            {"target": TARGET, "events": "order_created"},
            "events",
            "The events must be an array of event type names.",
        ),
        (
            {"target": TARGET, "events": []},
            "events",
            "The events must contain at least one event type.",
        ),
        (
            {"target": TARGET, "events": ["order_created", "order_shipped"]},
            "events",
            "The event type order_shipped is not supported.",
        ),
        (
            {"target": TARGET, "events": ["order_created"], "secret": 42},
            "secret",
            "The secret must be a string.",
        ),
        (
            {"target": TARGET, "events": ["order_created"], "secret": ""},
            "secret",
            "The secret may not be empty.",
        ),
        (
            {"target": TARGET, "events": ["order_created"], "secret": "s" * 513},
            "secret",
            "The secret may not be longer than 512 characters.",
        ),
        (
            {"target": TARGET, "events": ["order_created"], "secret": "whsec_c2hvcnQ="},
            "secret",
            "A whsec_ secret must be base64 of 24 to 64 random bytes.",
        ),
        (
            {"target": TARGET, "events": ["order_created"], "secret": "whsec_not base64!"},
            "secret",
            "A whsec_ secret must be base64 of 24 to 64 random bytes.",
        ),
        (
            {"target": TARGET, "events": ["event_tracked"], "eventNames": "Placed Order"},
            "eventNames",
            "The eventNames must be an array of event names, or null.",
        ),
        (
            {"target": TARGET, "events": ["order_created"], "eventNames": ["Placed Order"]},
            "eventNames",
            "The eventNames filter needs the event_tracked event type.",
        ),
    ],
)
def test_validation_messages(
    client: TestClient, store: StoreFixture, body: dict[str, Any], field: str, message: str
) -> None:
    response = client.post("/v1/webhooks", json=body, headers=store.headers)
    assert response.status_code == 422
    answer = json_of(response)
    assert answer["success"] is False
    assert answer["message"] == message
    assert answer["errors"][field] == [message]
    assert client.get("/v1/webhooks", headers=store.headers).json()["totalCount"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2]", "The request body must be a JSON object."),
        (b"{not json", "The request body is not valid JSON"),
        (b"", "The request body is empty; a JSON object is expected."),
    ],
)
def test_malformed_bodies_are_400(
    client: TestClient, store: StoreFixture, content: bytes, message: str
) -> None:
    response = client.post(
        "/v1/webhooks",
        content=content,
        headers={**store.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert json_of(response)["message"].startswith(message)


def test_every_event_type_is_accepted(client: TestClient, store: StoreFixture) -> None:
    events = [
        "order_created",
        "order_updated",
        "product_created",
        "product_updated",
        "form_submitted",
        "contact_updated",
        "booking_created",
        "event_tracked",
        "contact_created",
        "contact_merged",
        "contact_deleted",
        "segment_entered",
        "segment_exited",
    ]
    created = create_webhook(client, store, TARGET, events, eventNames=["Placed Order"])
    assert created["events"] == events
    assert created["eventNames"] == ["Placed Order"]


def test_link_local_targets_are_refused_even_when_private_ones_are_allowed(
    client: TestClient, store: StoreFixture
) -> None:
    # The test settings allow private targets; cloud metadata addresses stay refused.
    for target in (
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hooks",
        "http://[::ffff:169.254.169.254]/",
    ):
        response = client.post(
            "/v1/webhooks",
            json={"target": target, "events": ["order_created"]},
            headers=store.headers,
        )
        assert response.status_code == 422, target
        message = json_of(response)["errors"]["target"][0]
        assert "link-local address" in message and "never allowed" in message


def test_multicast_targets_are_refused(client: TestClient, store: StoreFixture) -> None:
    response = client.post(
        "/v1/webhooks",
        json={"target": "http://224.0.0.1/hooks", "events": ["order_created"]},
        headers=store.headers,
    )
    assert response.status_code == 422
    assert json_of(response)["message"] == (
        "The target resolves to a multicast address (224.0.0.1); such targets are never allowed."
    )


def test_unresolvable_host_is_refused(client: TestClient, store: StoreFixture) -> None:
    response = client.post(
        "/v1/webhooks",
        json={"target": "https://no-such-host.invalid/hooks", "events": ["order_created"]},
        headers=store.headers,
    )
    assert response.status_code == 422
    assert json_of(response)["message"] == "The target host could not be resolved."


def test_list_is_a_paginated_envelope(client: TestClient, store: StoreFixture) -> None:
    ids = [create_webhook(client, store, TARGET, ["order_created"])["id"] for _ in range(3)]
    page = client.get("/v1/webhooks?limit=2&skip=1", headers=store.headers).json()
    assert page["totalCount"] == 3 and page["limit"] == 2 and page["skip"] == 1
    assert [w["id"] for w in page["items"]] == ids[1:]
    bad = client.get("/v1/webhooks?limit=51", headers=store.headers)
    assert bad.status_code == 400
    assert json_of(bad)["message"] == "The limit parameter must be between 1 and 50."


def test_update_changes_only_supplied_fields(client: TestClient, store: StoreFixture) -> None:
    created = create_webhook(client, store, TARGET, ["order_created"], secret="your-secret")
    url = f"/v1/webhooks/{created['id']}"
    response = client.put(url, json={"events": ["event_tracked"]}, headers=store.headers)
    assert response.status_code == 200
    body = json_of(response)
    assert body["events"] == ["event_tracked"] and body["target"] == TARGET
    body = client.put(url, json={"eventNames": ["Viewed Product"]}, headers=store.headers).json()
    assert body["eventNames"] == ["Viewed Product"] and body["events"] == ["event_tracked"]
    body = client.put(url, json={"eventNames": None}, headers=store.headers).json()
    assert body["eventNames"] is None
    new_target = "http://127.0.0.1:9/other"
    body = client.put(
        url, json={"target": new_target, "secret": "rotated-secret"}, headers=store.headers
    ).json()
    assert body["target"] == new_target and "secret" not in body
    assert client.get(url, headers=store.headers).json() == body


def test_update_validates_like_create(client: TestClient, store: StoreFixture) -> None:
    created = create_webhook(client, store, TARGET, ["event_tracked"])
    url = f"/v1/webhooks/{created['id']}"
    for body, message in (
        ({"events": []}, "The events must contain at least one event type."),
        ({"target": "mailto:a@b.c"}, "The target must be a valid http or https URL."),
        ({"target": "http://169.254.169.254/"}, "link-local"),
    ):
        response = client.put(url, json=body, headers=store.headers)
        assert response.status_code == 422
        assert message in json_of(response)["message"]
    client.put(url, json={"eventNames": ["Placed Order"]}, headers=store.headers)
    response = client.put(url, json={"events": ["order_created"]}, headers=store.headers)
    assert response.status_code == 422
    assert json_of(response)["message"] == (
        "The eventNames filter needs the event_tracked event type."
    )
    assert client.get(url, headers=store.headers).json()["events"] == ["event_tracked"]


def test_delete_answers_204_then_404(client: TestClient, store: StoreFixture) -> None:
    created = create_webhook(client, store, TARGET, ["order_created"])
    url = f"/v1/webhooks/{created['id']}"
    response = client.delete(url, headers=store.headers)
    assert response.status_code == 204 and response.content == b""
    missing = client.get(url, headers=store.headers)
    assert missing.status_code == 404
    assert json_of(missing) == {"success": False, "message": "Webhook not found."}
    assert client.delete(url, headers=store.headers).status_code == 404


def test_pause_and_resume(client: TestClient, store: StoreFixture) -> None:
    created = create_webhook(client, store, TARGET, ["order_created"])
    url = f"/v1/webhooks/{created['id']}"
    paused = client.post(f"{url}/pause", headers=store.headers)
    assert paused.status_code == 200 and json_of(paused)["status"] == "paused"
    assert client.get(url, headers=store.headers).json()["status"] == "paused"
    resumed = client.post(f"{url}/resume", headers=store.headers)
    assert resumed.status_code == 200 and json_of(resumed)["status"] == "active"


def test_unknown_ids_answer_404(client: TestClient, store: StoreFixture) -> None:
    created = create_webhook(client, store, TARGET, ["order_created"])
    for method, path in (
        ("GET", "/v1/webhooks/rh_12345678901"),
        ("GET", "/v1/webhooks/nonsense"),
        ("GET", f"/v1/webhooks/{created['id']}/deliveries/999999999"),
        ("GET", f"/v1/webhooks/{created['id']}/deliveries/not-a-number"),
        ("POST", f"/v1/webhooks/{created['id']}/deliveries/99999999999999999999/replay"),
    ):
        response = client.request(method, path, headers=store.headers)
        assert response.status_code == 404, path


def test_secret_key_is_required(client: TestClient) -> None:
    for method, path in (
        ("GET", "/v1/webhooks"),
        ("POST", "/v1/webhooks"),
        ("GET", "/v1/webhooks/rh_1/deliveries"),
    ):
        response = client.request(method, path, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert json_of(response) == {"success": False, "message": "Unauthenticated."}


def test_another_store_can_neither_see_nor_change_a_webhook(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    created = create_webhook(client, store, TARGET, ["order_created"])
    webhook_id = created["id"]
    listed = client.get("/v1/webhooks", headers=other_store.headers).json()
    assert listed["totalCount"] == 0 and listed["items"] == []
    for method, path, body in (
        ("GET", f"/v1/webhooks/{webhook_id}", None),
        ("PUT", f"/v1/webhooks/{webhook_id}", {"events": ["order_updated"]}),
        ("POST", f"/v1/webhooks/{webhook_id}/pause", None),
        ("POST", f"/v1/webhooks/{webhook_id}/resume", None),
        ("GET", f"/v1/webhooks/{webhook_id}/deliveries", None),
        ("POST", f"/v1/webhooks/{webhook_id}/replay", {"from": 0}),
        ("DELETE", f"/v1/webhooks/{webhook_id}", None),
    ):
        theirs = client.request(method, path, json=body, headers=other_store.headers)
        missing = client.request(
            method,
            path.replace(webhook_id, "rh_10000000000"),
            json=body,
            headers=other_store.headers,
        )
        assert theirs.status_code == missing.status_code == 404, (method, path)
        assert theirs.json() == missing.json()
    unchanged = client.get(f"/v1/webhooks/{webhook_id}", headers=store.headers).json()
    assert unchanged["status"] == "active" and unchanged["events"] == ["order_created"]


def test_openapi_documents_the_webhook_endpoints(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    create = document["paths"]["/v1/webhooks"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.endswith("/WebhookCreate")
    schemas = document["components"]["schemas"]
    assert set(schemas["WebhookCreate"]["required"]) == {"target", "events"}
    for name in ("WebhookCreate", "Webhook", "Delivery", "Attempt"):
        for prop, spec in schemas[name]["properties"].items():
            assert spec.get("description"), (name, prop)
    for path in (
        "/v1/webhooks/{webhook_id}/pause",
        "/v1/webhooks/{webhook_id}/resume",
        "/v1/webhooks/{webhook_id}/deliveries",
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
        "/v1/webhooks/{webhook_id}/replay",
    ):
        assert path in document["paths"], path
