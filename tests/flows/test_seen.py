"""A pass's events as flows read them (:class:`triggers.Seen`, a named tuple picked from the
queue's row by column name): the same values as the row, and a trigger's view of it equal to
the API's view of the event, also for documents stored deeper than the view shows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from cartwheel.db import Database
from cartwheel.events.schemas import event_view
from cartwheel.flows import triggers
from cartwheel.ingest.properties import CLIPPED, SHOWN_DEPTH
from cartwheel.models import Event
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture
from tests.flows.helpers import Clock, pending_rows
from tests.segments.helpers import track


def test_a_row_becomes_a_named_tuple_of_the_same_values(
    runtime: Runtime, db: Database, store: StoreFixture, clock: Clock
) -> None:
    track(
        runtime,
        store.store_id,
        "ann@seen.io",
        "Order Completed",
        at=clock.now,
        properties={"sku": "A", "price": 29.99, "items": [{"sku": "A"}]},
        value=42,
        category="order",
        action="completed",
        entity={"id": "o-1"},
    )
    with db.read() as session:
        [row] = pending_rows(session, store.store_id)
        event = triggers.seen(row)
        assert isinstance(event, triggers.Seen)
        assert event._asdict() == {name: getattr(row, name) for name in triggers.Seen._fields}
        whole = session.get(Event, row.id)
        assert whole is not None
        assert triggers.seen(whole) is whole  # an ORM event is read as it is
        assert triggers.event_json(event) == event_view(whole).model_dump(mode="json")


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {"level": level, "inner": value} if level % 2 else [value]
    return value


def test_the_view_clips_what_was_stored_deeper_than_it_shows() -> None:
    """Flat properties are copied as they are; a document nested deeper than the view
    shows (stored before the nesting limit) is clipped as the API's view clips it."""
    moment = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "store_id": 1,
        "name": "Viewed Product",
        "category": None,
        "silent": False,
        "contact_id": 7,
        "action": None,
        "occurred_at": moment,
        "received_at": moment,
        "source": "api",
        "properties": {"sku": "A", "price": 29.99, "deep": _nested(SHOWN_DEPTH + 3)},
        "property_types": {"sku": "string", "price": "number"},
        "extra": {"tree": _nested(SHOWN_DEPTH + 5), "flat": 1},
        "entity": {"id": "p-1", "tree": _nested(SHOWN_DEPTH + 2)},
        "value": None,
        "currency": None,
    }
    seen = triggers.Seen(**values)
    orm = Event(**{k: v for k, v in values.items()})
    shown = triggers.event_json(seen)
    assert shown == event_view(orm).model_dump(mode="json")
    assert CLIPPED in str(shown["properties"]) and CLIPPED in str(shown["extra"])
    flat = {"sku": "A", "price": 29.99}
    flat_event = seen._replace(properties=flat, extra=None)
    copied = triggers.event_json(flat_event)
    assert copied["properties"] == flat and copied["properties"] is not flat
    assert copied["extra"] == {}
