"""Event values nested deeper than ``CARTWHEEL_MAX_JSON_DEPTH`` are refused by every format,
and a deep value stored before the limit cannot break the event view (issue 8 item 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from cartwheel import models
from cartwheel.db import Database
from cartwheel.ingest.properties import CLIPPED
from cartwheel.runtime import Runtime
from tests.hostile.catalog import (
    Endpoint,
    Targets,
    assert_error_shape,
    nested,
    row_counts,
)

# -- item 3: event values nested deeper than CARTWHEEL_MAX_JSON_DEPTH ----------------------

#: One event per format whose free-form data sits at ``{"deep": value}`` somewhere.
DEEP_EVENTS: list[tuple[str, str, Any]] = [
    (
        "POST",
        "/v1/events",
        lambda v: {"name": "x", "contact": {"email": "a@x.io"}, "properties": v},
    ),
    (
        "POST",
        "/v1/events",
        lambda v: {"name": "x", "contact": {"email": "a@x.io", "customFields": v}},
    ),
    (
        "POST",
        "/v1/events/batch",
        lambda v: {"events": [{"name": "x", "contact": {"email": "a@x.io"}, "properties": v}]},
    ),
    (
        "POST",
        "/api/events",
        lambda v: {"eventName": "x", "email": "a@x.io", "source": "s", "properties": v},
    ),
    (
        "POST",
        "/stores/{storeId}/events",
        lambda v: {"eventName": "x", "customer": {"email": "a@x.io"}, "data": v},
    ),
    (
        "POST",
        "/stores/{storeId}/events/bulk",
        lambda v: {"events": [{"eventName": "x", "customer": {"email": "a@x.io"}, "data": v}]},
    ),
    (
        "POST",
        "/v5/events",
        lambda v: {
            "eventName": "x",
            "origin": "api",
            "contact": {"email": "a@x.io"},
            "properties": v,
        },
    ),
    (
        "POST",
        "/client/v1/events",
        lambda v: {"event": "x", "customer": {"source_id": "c1"}, "metadata": v},
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "build"),
    DEEP_EVENTS,
    ids=lambda x: x if isinstance(x, str) else "body",  # stable ids: xdist compares them
)
def test_event_values_nested_beyond_the_limit_are_refused(
    db: Database, targets: Targets, runtime: Runtime, method: str, path: str, build: Any
) -> None:
    limit = runtime.settings.max_json_depth
    assert limit == 32
    endpoint = Endpoint(method, path, None)
    before = row_counts(db, targets.store)
    for depth in (40, limit):  # 40 levels: under the body limit, over the event limit
        refused = targets.send(endpoint, json.dumps(build({"deep": nested(depth)})).encode())
        if refused.status_code == 207 or (
            path.endswith(("batch", "bulk")) and refused.status_code < 300
        ):
            assert "nested deeper than 32 levels" in refused.text, refused.text
        else:
            assert_error_shape(endpoint, refused)
            assert "nested deeper than 32 levels" in refused.text, refused.text
    assert row_counts(db, targets.store) == before
    accepted = targets.send(endpoint, json.dumps(build({"deep": nested(limit - 6)})).encode())
    assert accepted.status_code < 300, accepted.text
    assert "nested deeper" not in accepted.text


def test_a_stored_value_deeper_than_a_response_can_be_is_clipped_in_the_view(
    db: Database, targets: Targets
) -> None:
    # Written before the limit existed: stored directly, 300 levels deep.
    sent = targets.client.post(
        "/v1/events",
        json={"name": "old", "contact": {"email": "old@clip.io"}, "properties": {"a": 1}},
        headers=targets.store.headers,
    )
    assert sent.status_code == 202, sent.text
    with db.transaction() as session:
        event = session.execute(
            select(models.Event).where(
                models.Event.store_id == targets.store.store_id, models.Event.name == "old"
            )
        ).scalar_one()
        event.extra = {"deep": nested(300)}
        event.properties = {"a": 1}
        contact_id = event.contact_id
    response = targets.client.get(
        f"/v1/contacts/{contact_id}/events", headers=targets.store.headers
    )
    assert response.status_code == 200, response.text
    text = response.text
    assert CLIPPED in text and text.count("[") < 100
