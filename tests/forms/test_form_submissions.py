"""Form submissions: the public submit endpoint (client credential, allowed origins) and
the store data API's list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cartwheel.db import Database
from cartwheel.forms.schemas import SUBMIT_EXAMPLE
from cartwheel.models import FormSubmission
from tests.conftest import StoreFixture, json_of
from tests.contacts.helpers import assert_pagination, create_contact, error, outbox


def submit(
    client: TestClient, store: StoreFixture, body: dict[str, Any], form: str = "Contact form"
) -> Any:
    return client.post(f"/v1/forms/{form}/submissions", json=body, headers=store.client_headers())


def fields(**values: str) -> dict[str, Any]:
    return {"fields": [{"name": k, "value": v} for k, v in values.items()]}


def test_a_submission_creates_the_contact_and_is_listed(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    response = submit(client, store, SUBMIT_EXAMPLE)
    assert response.status_code == 201
    body = json_of(response)
    assert set(body) == {"id", "name", "received", "fields", "contactId"}
    assert (body["name"], body["fields"]) == ("Contact form", SUBMIT_EXAMPLE["fields"])
    contact = json_of(client.get("/v1/contacts?email=john@doe.com", headers=store.headers))
    assert (contact["id"], contact["name"], contact["source"]) == (
        body["contactId"],
        "John Doe",
        "form",
    )
    listed = json_of(client.get("/v1/form-submissions", headers=store.headers))
    assert listed["items"] == [body]
    # The webhook payload: the submission plus the document's form_submitted fields.
    (payload,) = outbox(db, store.store_id, "form_submitted")
    assert payload == {
        **body,
        "website": {
            "id": store.store_id,
            "subdomain": None,
            "systemDomain": None,
            "domain": "shop.example.com",
        },
        "contact": contact,
        "formName": "Contact form",
        "formValues": [{"field": f["name"], "value": f["value"]} for f in body["fields"]],
    }
    assert outbox(db, store.store_id, "contact_updated") == [contact]


def test_a_submission_updates_the_existing_contact(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    existing = create_contact(client, store, email="kim@example.com", name="Kim")
    response = submit(
        client,
        store,
        fields(**{"E-mail": "KIM@example.com", "Phone": "555 010 0111", "Company Name": "Kimco"}),
    )
    assert json_of(response)["contactId"] == existing["id"]
    shown = json_of(client.get(f"/v1/contacts/{existing['id']}", headers=store.headers))
    assert (shown["name"], shown["phone"], shown["companyName"]) == ("Kim", "+15550100111", "Kimco")
    # Nothing new about the contact: no contact_updated beyond the API's own.
    submit(client, store, fields(email="kim@example.com"))
    assert len(outbox(db, store.store_id, "contact_updated")) == 2


def test_a_submission_without_email_has_no_contact(client: TestClient, store: StoreFixture) -> None:
    body = json_of(submit(client, store, fields(message="hello", email=" ")))
    assert body["contactId"] is None
    assert json_of(client.get("/v1/contacts", headers=store.headers))["totalCount"] == 0


def test_refused_origins_and_credentials(client: TestClient, store: StoreFixture) -> None:
    path = "/v1/forms/Contact form/submissions"
    body = fields(email="o@example.com")
    for origin in ("https://evil.example.com", "http://shop.example.com.evil.io"):
        refused = client.post(path, json=body, headers=store.client_headers(origin))
        assert error(refused, 403) == "This origin is not allowed for this client application."
    no_origin = {k: v for k, v in store.client_headers().items() if k != "Origin"}
    assert error(client.post(path, json=body, headers=no_origin), 403)
    bad_token = {**store.client_headers(), "X-Client-Token": "cw_ct_wrong"}
    assert error(client.post(path, json=body, headers=bad_token), 401) == "Unauthenticated."
    # The secret key is not a client credential.
    assert error(client.post(path, json=body, headers=store.headers), 401) == "Unauthenticated."
    assert json_of(client.get("/v1/form-submissions", headers=store.headers))["totalCount"] == 0


def test_listing_needs_the_secret_key(client: TestClient, store: StoreFixture) -> None:
    refused = client.get("/v1/form-submissions", headers=store.client_headers())
    assert error(refused, 401) == "Unauthenticated."
    assert error(client.get("/v1/form-submissions"), 401) == "Unauthenticated."


def test_list_filters_by_received_time_inclusive(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    ids = [json_of(submit(client, store, fields(n=str(i))))["id"] for i in range(3)]
    with db.transaction() as session:
        first = session.get(FormSubmission, ids[0])
        assert first is not None
        start = first.received_at.replace(microsecond=0)
        for offset, submission_id in enumerate(ids):
            session.execute(
                update(FormSubmission)
                .where(FormSubmission.id == submission_id)
                .values(received_at=start + timedelta(seconds=60 * offset, microseconds=900))
            )
    t0 = int(start.timestamp())

    def listed(query: str) -> list[int]:
        body = json_of(client.get(f"/v1/form-submissions?{query}", headers=store.headers))
        return [item["id"] for item in body["items"]]

    assert listed(f"from={t0 + 60}") == ids[1:]
    assert listed(f"to={t0 + 60}") == ids[:2]
    assert listed(f"from={t0 + 60}&to={t0 + 60}") == [ids[1]]
    received = json_of(client.get("/v1/form-submissions", headers=store.headers))["items"]
    assert [item["received"] for item in received] == [t0, t0 + 60, t0 + 120]
    assert error(client.get("/v1/form-submissions?from=x", headers=store.headers), 400) == (
        "The from parameter must be an integer."
    )
    assert error(client.get("/v1/form-submissions?to=-5", headers=store.headers), 400) == (
        "The to parameter must be at least 0."
    )


def test_list_is_paginated(client: TestClient, store: StoreFixture) -> None:
    ids = [json_of(submit(client, store, fields(n=str(i))))["id"] for i in range(3)]
    assert_pagination(client, store, "/v1/form-submissions", ids)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "fields", "The fields field is required."),
        ({"fields": []}, "fields", "The fields field must have at least 1 item(s)."),
        ({"fields": {"email": "a"}}, "fields", "The fields field must be an array."),
        ({"fields": [{"value": "x"}]}, "fields.0.name", "The fields.0.name field is required."),
        (
            {"fields": [{"name": "n", "value": 5}]},
            "fields.0.value",
            "The fields.0.value field must be a string.",
        ),
        (
            {"fields": [{"name": "email", "value": "not-an-email"}]},
            "fields.0.value",
            "The email field must be a valid email address.",
        ),
    ],
)
def test_validation_messages(
    client: TestClient, store: StoreFixture, body: dict[str, Any], field: str, message: str
) -> None:
    response = submit(client, store, body)
    assert error(response, 422) == message
    assert json_of(response)["errors"] == {field: [message]}


def test_form_name_is_limited(client: TestClient, store: StoreFixture) -> None:
    response = submit(client, store, fields(a="b"), form="x" * 201)
    assert error(response, 422) == "The form name must be 1 to 200 characters."
    response = submit(client, store, fields(a="b"), form="bad%00name")
    assert error(response, 422) == "The form name must not contain NUL characters."
    response = submit(client, store, fields(a="b\x00"))
    assert error(response, 422) == "The fields.0.value field must not contain NUL characters."


def test_another_store_sees_nothing(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    submit(client, store, fields(email="secret@example.com"))
    theirs = json_of(client.get("/v1/form-submissions", headers=other_store.headers))
    assert theirs == {"items": [], "totalCount": 0, "limit": 30, "skip": 0}
    # Their client credential files into their store only.
    mine = json_of(submit(client, other_store, fields(email="secret@example.com")))
    ours = json_of(client.get("/v1/contacts?email=secret@example.com", headers=store.headers))
    assert mine["contactId"] != ours["id"]
    assert json_of(client.get("/v1/form-submissions", headers=store.headers))["totalCount"] == 1


def test_cors_lets_only_allowed_origins_read_the_answer(
    client: TestClient, store: StoreFixture
) -> None:
    path = "/v1/forms/Contact form/submissions"
    preflight = client.options(
        path,
        headers={"Origin": "https://any.example.org", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://any.example.org"
    assert "X-Client-Token" in preflight.headers["access-control-allow-headers"]
    for headers in ({"Access-Control-Request-Method": "POST"}, {"Origin": "https://a.example"}):
        assert error(client.options(path, headers=headers), 403) == "CORS preflight refused."
    allowed = submit(client, store, fields(email="cors@example.com"))
    assert allowed.headers["access-control-allow-origin"] == store.allowed_origin
    invalid = submit(client, store, {"fields": []})
    assert invalid.status_code == 422
    assert invalid.headers["access-control-allow-origin"] == store.allowed_origin
    refused = client.post(
        path,
        json=fields(email="cors@example.com"),
        headers=store.client_headers("https://evil.example.com"),
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
