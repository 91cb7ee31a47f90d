"""A worker pass and a segment created at the same moment, on both engines: a pass writes a
transition to the outbox only where someone reads it (``tasks._announce``), so a segment
that starts referring to the changed one while the pass runs must not miss it."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.runtime import Runtime
from cartwheel.segments import service
from cartwheel.segments.schemas import parse_body
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.segments.helpers import create_segment, member_ids, track


def test_a_segment_created_while_a_pass_writes_its_referent_follows_that_pass(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    did_a = create_segment(client, store, {"event": "A"}, name="did A")
    ann = track(runtime, store.store_id, "ann@x.io", "B")
    worker.drain()
    track(runtime, store.store_id, "ann@x.io", "A")  # Ann enters "did A" in the next pass
    body = {"name": "did A and B", "condition": {"all": [{"segment": did_a["id"]}, {"event": "B"}]}}
    passed = threading.Event()

    def one_pass() -> None:
        worker.run_once()
        passed.set()

    with db.transaction() as session:
        # The new segment is built, not yet committed: Ann is not in "did A" yet.
        created = service.create_segment(session, store.store_id, parse_body(body, creating=True))
        pass_thread = threading.Thread(target=one_pass)
        pass_thread.start()
        # The pass waits to write Ann's entry: PostgreSQL, for the referred segment's row
        # this transaction locked; SQLite, for the write lock.
        assert not passed.wait(0.5)
    pass_thread.join(30)
    assert passed.is_set()
    worker.drain()
    assert member_ids(client, store, did_a["id"]) == {ann}
    # The pass saw the new segment once it could write, so it announced Ann's entry to it.
    assert member_ids(client, store, created.id) == {ann}
