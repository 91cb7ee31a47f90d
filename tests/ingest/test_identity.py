"""Identity resolution through the group-commit writer, on both engines."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from cartwheel.db import Database
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, IngestResult, ProfilePatch
from cartwheel.ingest.writer import IngestWriter
from cartwheel.models import Contact, ContactMerge, Event, IdentityConflict
from cartwheel.runtime import Runtime
from tests.conftest import StoreFixture


def event(
    store_id: int, name: str = "viewed", *, dedup: str | None = None, **ids: str
) -> CanonicalEvent:
    hints = IdentityHints()
    for kind in ("contact_uuid", "external", "email", "phone"):
        if kind in ids:
            hints.add(kind, ids[kind])  # type: ignore[arg-type]
    return CanonicalEvent(store_id=store_id, name=name, identity=hints, dedup_key=dedup)


def ingest_one(runtime: Runtime, ev: CanonicalEvent) -> IngestResult:
    (result,) = runtime.writer.submit_sync([ev])
    assert isinstance(result, IngestResult), result
    return result


def test_same_email_any_case_is_one_contact(runtime: Runtime, store: StoreFixture) -> None:
    first = ingest_one(runtime, event(store.store_id, email="ann@example.com"))
    second = ingest_one(runtime, event(store.store_id, email="ann@example.com"))
    assert first.contact_id == second.contact_id
    assert first.event_id != second.event_id


def test_phone_only_contact_is_merged_when_email_arrives_with_it(
    runtime: Runtime, db: Database, store: StoreFixture
) -> None:
    by_phone = ingest_one(runtime, event(store.store_id, phone="+15551230001"))
    by_email = ingest_one(runtime, event(store.store_id, email="bob@example.com"))
    both = ingest_one(runtime, event(store.store_id, email="bob@example.com", phone="+15551230001"))
    assert both.contact_id == by_email.contact_id
    with db.read() as session:
        merged = session.get(Contact, by_phone.contact_id)
        assert merged is not None and merged.merged_into_id == by_email.contact_id
        moved = session.scalar(select(func.count()).where(Event.contact_id == by_email.contact_id))
        assert moved == 3  # the phone-only event moved with the merge
        record = session.scalars(
            select(ContactMerge).where(ContactMerge.source_contact_id == by_phone.contact_id)
        ).one()
        assert record.target_contact_id == by_email.contact_id
    # The old uuid still resolves, to the surviving contact.
    again = ingest_one(runtime, event(store.store_id, contact_uuid=str(by_phone.contact_uuid)))
    assert again.contact_id == by_email.contact_id


def test_shared_phone_of_two_known_people_is_a_conflict_not_a_merge(
    runtime: Runtime, db: Database, store: StoreFixture
) -> None:
    carol = ingest_one(
        runtime, event(store.store_id, email="carol@example.com", phone="+15551230002")
    )
    dave = ingest_one(
        runtime, event(store.store_id, email="dave@example.com", phone="+15551230002")
    )
    assert carol.contact_id != dave.contact_id
    with db.read() as session:
        conflict = session.scalars(
            select(IdentityConflict).where(IdentityConflict.contact_id == dave.contact_id)
        ).one()
        assert conflict.owner_contact_id == carol.contact_id
        assert conflict.kind == "phone"


def test_dedup_key_retry_answers_the_same_and_stores_once(
    runtime: Runtime, db: Database, store: StoreFixture
) -> None:
    first = ingest_one(runtime, event(store.store_id, email="eve@example.com", dedup="order-1"))
    retry = ingest_one(runtime, event(store.store_id, email="eve@example.com", dedup="order-1"))
    assert retry.event_id == first.event_id and retry.duplicate
    with db.read() as session:
        count = session.scalar(
            select(func.count()).where(
                Event.store_id == store.store_id, Event.dedup_key == "order-1"
            )
        )
    assert count == 1


def test_profile_patch_sets_only_given_fields_and_keeps_source(
    runtime: Runtime, db: Database, store: StoreFixture
) -> None:
    ev = event(store.store_id, email="fay@example.com")
    ev.profile = ProfilePatch(
        fields={"first_name": "Fay"}, custom_fields={"tier": "gold"}, source="shopify"
    )
    ingest_one(runtime, ev)
    ev2 = event(store.store_id, email="fay@example.com")
    ev2.profile = ProfilePatch(fields={"last_name": "Lee"}, custom_fields={"age": 30}, source="woo")
    result = ingest_one(runtime, ev2)
    with db.read() as session:
        contact = session.get(Contact, result.contact_id)
        assert contact is not None
        assert (contact.first_name, contact.last_name, contact.source) == ("Fay", "Lee", "shopify")
        assert contact.custom_fields == {"tier": "gold", "age": 30}


def test_concurrent_requests_for_a_new_email_create_one_contact(
    runtime: Runtime, db: Database, store: StoreFixture
) -> None:
    results: list[IngestResult] = []
    lock = threading.Lock()

    def send() -> None:
        r = ingest_one(runtime, event(store.store_id, email="new@example.com"))
        with lock:
            results.append(r)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.contact_id for r in results}) == 1


def test_two_writers_on_one_database_create_one_contact(db: Database, store: StoreFixture) -> None:
    """Two writers stand in for two API processes sharing the database."""
    writers = [IngestWriter(Database(db.url)), IngestWriter(Database(db.url))]
    for w in writers:
        w.start()
    try:
        futures = [
            writers[i % 2].submit_nowait([event(store.store_id, email=f"race{j}@example.com")])
            for i in range(2)
            for j in range(30)
        ]
        results = [f.result()[0] for f in futures]
    finally:
        for w in writers:
            w.stop()
            w.db.dispose()
    assert all(isinstance(r, IngestResult) for r in results)
    with db.read() as session:
        contacts = session.scalar(select(func.count()).where(Contact.store_id == store.store_id))
    assert contacts == 30


def test_early_years_round_trip_on_sqlite_and_postgresql(
    runtime: Runtime, db: Database, store: StoreFixture
) -> None:
    from datetime import UTC, datetime

    ev = event(store.store_id, email="old@example.com")
    ev.occurred_at = datetime(103, 12, 30, 0, 6, 21, 80000, tzinfo=UTC)
    result = ingest_one(runtime, ev)
    with db.read() as session:
        stored = session.get(Event, result.event_id)
        assert stored is not None and stored.occurred_at == ev.occurred_at


def test_a_dedup_key_repeated_within_one_batch_is_stored_once(
    runtime: Runtime, db: Database, store: StoreFixture
) -> None:
    first, repeat = runtime.writer.submit_sync(
        [
            event(store.store_id, email="twice@example.com", dedup="same-key"),
            event(store.store_id, email="twice@example.com", dedup="same-key"),
        ]
    )
    assert isinstance(first, IngestResult) and isinstance(repeat, IngestResult)
    assert repeat.event_id == first.event_id
    assert (first.duplicate, repeat.duplicate) == (False, True)
    with db.read() as session:
        count = session.scalar(
            select(func.count()).where(
                Event.store_id == store.store_id, Event.dedup_key == "same-key"
            )
        )
    assert count == 1


def test_a_value_too_long_for_its_column_is_that_events_error(
    runtime: Runtime, store: StoreFixture
) -> None:
    import asyncio

    from cartwheel.exceptions import ValidationFailed
    from cartwheel.ingest.service import ingest

    ok = event(store.store_id, email="fine@example.com")
    too_long = event(store.store_id, "x" * 301, email="fine@example.com")
    first, second = asyncio.run(ingest(runtime, [ok, too_long]))
    assert isinstance(first, IngestResult)
    assert isinstance(second, ValidationFailed)
    assert second.errors == {"name": ["The name may not be greater than 300 characters."]}
