"""Templates by API: create, read, change, delete, render; 422s with line and column; a
store sees nothing of another's."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.messages.schemas import TEMPLATE_REQUEST_EXAMPLE
from tests.conftest import StoreFixture, json_of
from tests.messages.helpers import make_contact


def _create(client: TestClient, store: StoreFixture, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/templates", json=body, headers=store.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def test_crud_and_render_with_sample_data(client: TestClient, store: StoreFixture) -> None:
    created = _create(client, store, **TEMPLATE_REQUEST_EXAMPLE)
    assert created["channel"] == "email" and created["html"] == TEMPLATE_REQUEST_EXAMPLE["html"]
    url = f"/v1/templates/{created['id']}"
    assert json_of(client.get(url, headers=store.headers)) == created

    rendered = json_of(client.post(f"{url}/render", json={}, headers=store.headers))
    assert rendered["subject"] == "Your order 1001 is on its way"
    assert '<p style="color: #333;">Hi Ann,</p>' in rendered["html"]
    assert "2 × T-shirt" in rendered["text"]

    changed = client.put(url, json={"subject": "Shipped!"}, headers=store.headers)
    assert json_of(changed)["subject"] == "Shipped!"
    listed = json_of(client.get("/v1/templates", headers=store.headers))
    assert [t["id"] for t in listed["items"]] == [created["id"]]
    assert client.delete(url, headers=store.headers).status_code == 204
    assert client.get(url, headers=store.headers).status_code == 404


@pytest.mark.parametrize(
    ("part", "source", "where", "says"),
    [
        ("html", "<p>ok</p>\n<p>{% if %}</p>", "Line 2, column 7", "missing expression"),
        (
            "html",
            "<p>{{ contact.firstName | nofilter }}</p>",
            "Line 1, column 27",
            "no filter 'nofilter'",
        ),
        ("subject", "Hi {{ customer.name }}", "Line 1, column 7", "no variable 'customer'"),
        ("html", "<p>\n  {{ contact.shoeSize }}</p>", "Line 2, column 6", "no field 'shoeSize'"),
        ("html", "{% for x in order.lines %}{{ x.name }}{% endfor %", "Line 1", ""),
    ],
)
def test_a_bad_template_is_a_422_with_line_and_column(
    client: TestClient, store: StoreFixture, part: str, source: str, where: str, says: str
) -> None:
    body = {"name": "t", "channel": "email", "subject": "s", "html": "<p>x</p>", part: source}
    response = client.post("/v1/templates", json=body, headers=store.headers)
    assert response.status_code == 422, response.text
    [message] = response.json()["errors"][part]
    assert message.startswith(where) and says in message


def test_free_fields_are_accepted(client: TestClient, store: StoreFixture) -> None:
    _create(
        client,
        store,
        name="free",
        channel="email",
        subject="{{ event.properties.sku }} {{ data.coupon }}",
        html="{{ contact.customFields.size }} {{ event['$extra'].images[0] }} "
        "{% assign n = order.lines | size %}{{ n }} {{ unsubscribe_url }}",
    )


def test_sms_and_email_parts_are_checked(client: TestClient, store: StoreFixture) -> None:
    sms = _create(client, store, name="sms", channel="sms", text="Hi {{ contact.firstName }}")
    assert sms["text"] == "Hi {{ contact.firstName }}" and sms["html"] is None
    for body in (
        {"name": "x", "channel": "sms", "text": "x", "html": "<p>x</p>"},
        {"name": "x", "channel": "email", "html": "<p>x</p>"},
        {"name": "x", "channel": "fax", "text": "x"},
    ):
        assert client.post("/v1/templates", json=body, headers=store.headers).status_code == 422


def test_autoescape_and_limits_when_rendering(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    contact_id = make_contact(db, store.store_id, first_name="<script>x</script>")
    escaped = _create(
        client,
        store,
        name="e",
        channel="email",
        subject="{{ contact.firstName }}",
        html="<p>{{ contact.firstName }}</p>",
    )
    rendered = json_of(
        client.post(
            f"/v1/templates/{escaped['id']}/render",
            json={"contactId": contact_id},
            headers=store.headers,
        )
    )
    assert "&lt;script&gt;x&lt;/script&gt;" in rendered["html"]
    assert "<script>" not in rendered["html"]
    assert rendered["subject"] == "<script>x</script>"  # a header, not HTML

    looping = _create(
        client,
        store,
        name="l",
        channel="email",
        subject="s",
        html="{% for a in (1..1000) %}{% for b in (1..1000) %}x{% endfor %}{% endfor %}",
    )
    response = client.post(f"/v1/templates/{looping['id']}/render", json={}, headers=store.headers)
    assert response.status_code == 422
    assert "limit" in response.json()["message"]


def test_render_with_a_contact_of_another_store_is_a_404(
    client: TestClient, db: Database, store: StoreFixture, other_store: StoreFixture
) -> None:
    theirs = make_contact(db, other_store.store_id)
    mine = _create(client, store, **TEMPLATE_REQUEST_EXAMPLE)
    url = f"/v1/templates/{mine['id']}/render"
    assert client.post(url, json={"contactId": theirs}, headers=store.headers).status_code == 404
    assert (
        client.post(
            url,
            json={"orderId": 1, "contactId": make_contact(db, store.store_id)},
            headers=store.headers,
        ).status_code
        == 404
    )
    # Their key sees nothing of mine.
    for method, path, body in (
        ("GET", f"/v1/templates/{mine['id']}", None),
        ("PUT", f"/v1/templates/{mine['id']}", {"name": "x"}),
        ("POST", url, {}),
        ("DELETE", f"/v1/templates/{mine['id']}", None),
    ):
        response = client.request(method, path, json=body, headers=other_store.headers)
        assert response.status_code == 404, (method, path)
    assert json_of(client.get("/v1/templates", headers=other_store.headers))["totalCount"] == 0
    assert client.get(f"/v1/templates/{mine['id']}", headers=store.headers).status_code == 200


def test_a_transactional_override_is_one_per_key(client: TestClient, store: StoreFixture) -> None:
    body = {
        "name": "o",
        "channel": "email",
        "key": "order_status",
        "subject": "s",
        "html": "<p>{{ order.status }}</p>",
    }
    created = _create(client, store, **body)
    assert created["topic"] == "transactional"
    assert client.post("/v1/templates", json=body, headers=store.headers).status_code == 409
