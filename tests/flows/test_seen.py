"""A pass's events as flows read them (:class:`triggers.Seen`, a named tuple picked from the
queue's row by column name): the same values as the row, and the id a run keeps of it."""

from __future__ import annotations

from cartwheel.db import Database
from cartwheel.flows import stored_trigger, triggers
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
        assert stored_trigger.of_event(event) == stored_trigger.of_event(whole)
        assert stored_trigger.of_event(event) == {"source": "event", "eventId": str(row.id)}
