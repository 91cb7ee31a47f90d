"""The segments API on both engines: building over history, incremental updates by the
worker (events, profile and list changes, merges, deletes, other segments), time through
the sweep, preview, explain, history, the 422 paths and tenancy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from cartwheel.db import Database
from cartwheel.models import Event, OutboxMessage, PendingEvent, Segment, SegmentCheck
from cartwheel.models.base import utcnow
from cartwheel.runtime import Runtime
from cartwheel.segments import tasks
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.segments.helpers import create_contact, create_segment, listen, member_ids, track


def transitions(db: Database, store: StoreFixture) -> list[tuple[str, dict[str, Any]]]:
    with db.read() as session:
        rows = session.execute(
            select(OutboxMessage.topic, OutboxMessage.payload)
            .where(
                OutboxMessage.store_id == store.store_id,
                OutboxMessage.topic.in_(["segment_entered", "segment_exited"]),
            )
            .order_by(OutboxMessage.id)
        ).all()
    return [(topic, payload) for topic, payload in rows]


def test_a_segment_builds_over_history_then_follows_events(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    listen(client, store)
    ann = track(runtime, store.store_id, "ann@x.io", "Order Placed", properties={"total": 30})
    track(runtime, store.store_id, "ann@x.io", "Order Placed", properties={"total": 25})
    bob = track(runtime, store.store_id, "bob@x.io", "Order Placed", properties={"total": 99})
    track(runtime, store.store_id, "cy@x.io", "Order Placed", properties={"total": 5})
    worker.drain()
    condition = {
        "event": "Order Placed",
        "count": {"gte": 2},
        "within": {"days": 30},
        "where": {"all": [{"property": "total", "op": "gte", "value": 20}]},
    }
    segment = create_segment(client, store, condition)
    assert segment["state"] == "live" and segment["size"] == 1 and segment["version"] == 1
    assert member_ids(client, store, segment["id"]) == {ann}
    assert transitions(db, store) == []  # a first build announces nothing

    track(runtime, store.store_id, "bob@x.io", "Order Placed", properties={"total": 40})
    worker.drain()
    assert member_ids(client, store, segment["id"]) == {ann, bob}
    assert transitions(db, store) == [
        ("segment_entered", {"segment_id": segment["id"], "contact_id": bob})
    ]
    listed = client.get("/v1/segments", headers=store.headers).json()
    assert listed["totalCount"] == 1 and listed["items"][0]["size"] == 2
    mine = client.get(f"/v1/contacts/{bob}/segments", headers=store.headers).json()
    assert [i["segmentId"] for i in mine["items"]] == [segment["id"]]


def test_a_transition_is_written_only_where_someone_reads_it(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    """Nobody reads a segment's entries (no webhook subscription, flow or segment that
    refers to it): the membership follows the event, no outbox message is written. Then
    each reader in turn makes the next transitions written: a segment that refers to it
    (its own transitions still unread), then a webhook subscription."""
    did_a = create_segment(client, store, {"event": "A"}, name="did A")
    ann = track(runtime, store.store_id, "ann@x.io", "A")
    worker.drain()
    assert member_ids(client, store, did_a["id"]) == {ann}
    assert transitions(db, store) == []

    user = create_segment(client, store, {"all": [{"segment": did_a["id"]}, {"event": "B"}]})
    bob = track(runtime, store.store_id, "bob@x.io", "B")
    track(runtime, store.store_id, "bob@x.io", "A")
    worker.drain()
    assert member_ids(client, store, user["id"]) == {bob}  # followed through the message
    assert transitions(db, store) == [
        ("segment_entered", {"segment_id": did_a["id"], "contact_id": bob})
    ]

    listen(client, store)
    cy = track(runtime, store.store_id, "cy@x.io", "B")
    track(runtime, store.store_id, "cy@x.io", "A")
    worker.drain()
    assert transitions(db, store)[1:] == [
        ("segment_entered", {"segment_id": did_a["id"], "contact_id": cy}),
        ("segment_entered", {"segment_id": user["id"], "contact_id": cy}),
    ]


def test_time_alone_moves_a_contact_out_through_the_sweep(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    now = utcnow()
    ann = track(runtime, store.store_id, "t1@x.io", "Visited", at=now - timedelta(hours=20))
    worker.drain()
    recent = create_segment(client, store, {"event": "Visited", "within": {"days": 1}})
    lapsed = create_segment(
        client, store, {"not": {"event": "Visited", "within": {"days": 1}}}, name="lapsed"
    )
    assert member_ids(client, store, recent["id"]) == {ann}
    assert ann not in member_ids(client, store, lapsed["id"])
    explain = client.get(
        f"/v1/segments/{recent['id']}/contacts/{ann}/explain", headers=store.headers
    ).json()
    assert explain["member"] is True and explain["matches"] is True
    assert explain["nodes"][0]["saw"]["count"] == 1
    due = explain["nextCheckAt"]
    assert due is not None

    assert tasks.sweep(db, now + timedelta(hours=3)) == 0  # nothing due yet
    assert tasks.sweep(db, now + timedelta(hours=4, minutes=1)) >= 2
    assert member_ids(client, store, recent["id"]) == set()
    assert ann in member_ids(client, store, lapsed["id"])
    topics = [(t, p["segment_id"]) for t, p in transitions(db, store)]
    assert ("segment_exited", recent["id"]) in topics
    assert ("segment_entered", lapsed["id"]) in topics


def test_an_event_processed_live_plans_the_check_time_will_need(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    """The segments exist before the event: the worker's re-check (not a build) plans the
    moments time alone changes the answer, only where it can: a member of "visited in the
    last day" leaves, a non-member of "has not visited in the last day" enters, and a
    non-member of "visited twice in the last day" has nothing to wait for."""
    now = utcnow()
    recent = create_segment(client, store, {"event": "Visited", "within": {"days": 1}})
    lapsed = create_segment(
        client, store, {"not": {"event": "Visited", "within": {"days": 1}}}, name="lapsed"
    )
    twice = create_segment(
        client, store, {"event": "Visited", "count": {"gte": 2}, "within": {"days": 1}}, name="2"
    )
    ann = track(runtime, store.store_id, "t2@x.io", "Visited", at=now - timedelta(hours=20))
    worker.drain()
    assert member_ids(client, store, recent["id"]) == {ann}
    assert member_ids(client, store, lapsed["id"]) == set()
    assert member_ids(client, store, twice["id"]) == set()
    with db.read() as session:
        planned = set(
            session.execute(
                select(SegmentCheck.segment_id).where(SegmentCheck.contact_id == ann)
            ).scalars()
        )
    assert planned == {recent["id"], lapsed["id"]}

    assert tasks.sweep(db, now + timedelta(hours=4, minutes=1)) == 2
    assert member_ids(client, store, recent["id"]) == set()
    assert member_ids(client, store, lapsed["id"]) == {ann}


def test_profile_list_and_segment_changes_are_followed(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    listen(client, store)
    list_id = client.post(
        "/v1/subscriber-lists", json={"name": "VIP"}, headers=store.headers
    ).json()["id"]
    us = create_segment(client, store, {"profile": "countryCode", "op": "in", "value": ["US"]})
    vip = create_segment(
        client,
        store,
        {
            "all": [
                {"segment": us["id"]},
                {"list": list_id},
                {"consent": "email", "status": "subscribed"},
            ]
        },
        name="vip",
    )
    gold = create_segment(
        client, store, {"profile": "customFields.Tier", "op": "eq", "value": "Gold"}, name="g"
    )
    dan = create_contact(client, store, email="dan@x.io", subscribed=True)
    worker.drain()
    assert member_ids(client, store, us["id"]) == set()
    # A profile change through an event (the resolver's patch).
    track(
        runtime,
        store.store_id,
        "dan@x.io",
        "Seen",
        fields={"country_code": "US"},
        custom={"Tier": "Gold"},
    )
    worker.drain()
    assert member_ids(client, store, us["id"]) == {dan}
    assert member_ids(client, store, gold["id"]) == {dan}
    assert member_ids(client, store, vip["id"]) == set()
    added = client.post(
        f"/v1/subscriber-lists/{list_id}/contacts",
        json={"contactIds": [dan]},
        headers=store.headers,
    )
    assert added.status_code in (200, 201), added.text
    worker.drain()
    assert member_ids(client, store, vip["id"]) == {dan}
    # A deleted contact leaves every segment, announced.
    assert client.delete(f"/v1/contacts/{dan}", headers=store.headers).status_code == 204
    worker.drain()
    assert member_ids(client, store, vip["id"]) == set()
    exited = {p["segment_id"] for t, p in transitions(db, store) if t == "segment_exited"}
    assert exited == {us["id"], vip["id"], gold["id"]}
    # A segment used by another cannot be deleted.
    blocked = client.delete(f"/v1/segments/{us['id']}", headers=store.headers)
    assert blocked.status_code == 409


def test_a_new_condition_makes_a_new_version_and_announces_the_difference(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    a = track(runtime, store.store_id, "a@x.io", "A")
    b = track(runtime, store.store_id, "b@x.io", "B")
    worker.drain()
    segment = create_segment(client, store, {"event": "A"})
    changed = client.put(
        f"/v1/segments/{segment['id']}",
        json={"name": "Did B", "condition": {"event": "B"}},
        headers=store.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["version"], body["name"], body["size"]) == (2, "Did B", 1)
    assert member_ids(client, store, segment["id"]) == {b}
    assert sorted(transitions(db, store), key=lambda t: t[0]) == [
        ("segment_entered", {"segment_id": segment["id"], "contact_id": b}),
        ("segment_exited", {"segment_id": segment["id"], "contact_id": a}),
    ]
    history = client.get(f"/v1/segments/{segment['id']}/history", headers=store.headers).json()
    (today,) = history["items"]
    assert (today["size"], today["entered"], today["exited"]) == (1, 1, 1)
    assert client.delete(f"/v1/segments/{segment['id']}", headers=store.headers).status_code == 204
    assert client.get(f"/v1/segments/{segment['id']}", headers=store.headers).status_code == 404


def test_preview_counts_without_saving(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    for n in range(3):
        track(runtime, store.store_id, f"p{n}@x.io", "Order Placed", value=100.0 * n)
    response = client.post(
        "/v1/segments/preview",
        json={"condition": {"event": "Order Placed", "sum": "value", "op": "gte", "value": 100}},
        headers=store.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 2 and len(body["sample"]) == 2
    assert client.get("/v1/segments", headers=store.headers).json()["totalCount"] == 0


def test_silent_events_and_lifecycle_kinds_count(
    client: TestClient, runtime: Runtime, worker: Worker, store: StoreFixture
) -> None:
    quiet = track(
        runtime,
        store.store_id,
        "q@x.io",
        "Order Completed",
        category="order",
        action="completed",
        silent=True,
        value=10.0,
    )
    segment = create_segment(client, store, {"event": {"category": "order", "action": "completed"}})
    assert member_ids(client, store, segment["id"]) == {quiet}


def test_a_wrong_definition_is_a_422_naming_the_path(
    client: TestClient, store: StoreFixture, other_store: StoreFixture
) -> None:
    bad = {"all": [{"event": "X"}, {"event": "Y"}, {"profile": "email", "op": "gte", "value": 1}]}
    response = client.post(
        "/v1/segments", json={"name": "n", "condition": bad}, headers=store.headers
    )
    assert response.status_code == 422
    assert "condition.all[2].op" in response.json()["errors"]
    foreign = client.post(
        "/v1/subscriber-lists", json={"name": "theirs"}, headers=other_store.headers
    ).json()["id"]
    response = client.post(
        "/v1/segments",
        json={"name": "n", "condition": {"any": [{"list": foreign}]}},
        headers=store.headers,
    )
    assert response.status_code == 422
    assert "condition.any[0].list" in response.json()["errors"]
    first = create_segment(client, store, {"event": "X"})
    second = create_segment(client, store, {"segment": first["id"]})
    cycle = client.put(
        f"/v1/segments/{first['id']}",
        json={"condition": {"not": {"segment": second["id"]}}},
        headers=store.headers,
    )
    assert cycle.status_code == 422
    assert "cycle" in cycle.json()["errors"]["condition.not.segment"][0]
    own = client.put(
        f"/v1/segments/{first['id']}",
        json={"condition": {"segment": first["id"]}},
        headers=store.headers,
    )
    assert own.status_code == 422
    empty = client.post("/v1/segments", json={"name": "n"}, headers=store.headers)
    assert empty.status_code == 422 and "condition" in empty.json()["errors"]
    assert client.post("/v1/segments", content=b"[", headers=store.headers).status_code == 400


def test_another_stores_segment_and_contact_are_404_everywhere(
    client: TestClient, runtime: Runtime, store: StoreFixture, other_store: StoreFixture
) -> None:
    theirs = create_segment(client, other_store, {"event": "X"})
    their_contact = create_contact(client, other_store, email="them@x.io")
    mine = create_segment(client, store, {"event": "X"})
    my_contact = create_contact(client, store, email="me@x.io")
    sid, cid = theirs["id"], their_contact
    h = store.headers
    answers = [
        client.get(f"/v1/segments/{sid}", headers=h),
        client.put(f"/v1/segments/{sid}", json={"name": "x"}, headers=h),
        client.delete(f"/v1/segments/{sid}", headers=h),
        client.get(f"/v1/segments/{sid}/contacts", headers=h),
        client.get(f"/v1/segments/{sid}/history", headers=h),
        client.get(f"/v1/segments/{sid}/contacts/{my_contact}/explain", headers=h),
        client.get(f"/v1/segments/{mine['id']}/contacts/{cid}/explain", headers=h),
        client.get(f"/v1/contacts/{cid}/segments", headers=h),
        client.post("/v1/segments/preview", json={"condition": {"segment": sid}}, headers=h),
        client.get("/v1/segments/99999999999999999999", headers=h),
        client.get("/v1/segments/%D9%A1", headers=h),
    ]
    assert [a.status_code for a in answers] == [404] * 8 + [422, 404, 404]
    listed = client.get("/v1/segments", headers=h).json()
    assert [s["id"] for s in listed["items"]] == [mine["id"]]
    assert client.get(f"/v1/segments/{sid}", headers=other_store.headers).status_code == 200


def test_a_merge_and_its_undo_recheck_both_contacts(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    listen(client, store)  # so that "no transition" below is not merely "none written"
    eve = track(runtime, store.store_id, "eve@x.io", "Seen")
    phone_only = track(runtime, store.store_id, None, "A", phone="+12025550143")
    worker.drain()
    did_a = create_segment(client, store, {"event": "A"})
    assert member_ids(client, store, did_a["id"]) == {phone_only}
    # The same person, proven by one event: the phone-only contact merges into Eve.
    track(runtime, store.store_id, "eve@x.io", "B", phone="+12025550143")
    worker.drain()
    assert member_ids(client, store, did_a["id"]) == {eve}
    # The membership moved with the person: no new entry is announced.
    assert transitions(db, store) == []
    undo_merge(client, store, eve)
    worker.drain()
    assert member_ids(client, store, did_a["id"]) == {phone_only}


def test_a_stored_condition_that_does_not_parse_stops_nothing_else(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    """A segment row written around the API with a condition that does not parse is left
    out of the worker's passes; the store's other segments and events go on."""
    broken = create_segment(client, store, {"event": "Order Placed"})
    good = create_segment(client, store, {"event": "Order Placed", "count": {"gte": 2}})
    with db.transaction() as session:
        session.execute(update(Segment).where(Segment.id == broken["id"]).values(condition={}))
    ann = track(runtime, store.store_id, "ann@x.io", "Order Placed")
    track(runtime, store.store_id, "ann@x.io", "Order Placed")
    worker.drain()
    assert member_ids(client, store, good["id"]) == {ann}
    assert member_ids(client, store, broken["id"]) == set()
    with db.read() as session:
        pending = session.scalars(select(PendingEvent.id)).all()
    assert pending == []


def test_a_plan_made_before_a_segment_changed_is_not_applied(
    client: TestClient, runtime: Runtime, db: Database, store: StoreFixture
) -> None:
    """The worker may evaluate in a read transaction and write later (SQLite); a segment
    rebuilt in between (a new version) keeps what its rebuild decided."""
    segment = create_segment(client, store, {"event": "A"})
    ann = track(runtime, store.store_id, "plan@x.io", "A")
    segments = tasks.Segments()
    with db.read() as session:
        (event,) = session.scalars(select(Event).where(Event.contact_id == ann)).all()
        segments.process_event(session, event)
        plan = segments.plan(session)
    assert plan is not None and [d.entering for d in plan.decisions] == [[ann]]
    changed = client.put(
        f"/v1/segments/{segment['id']}",
        json={"name": "Did B", "condition": {"event": "B"}},
        headers=store.headers,
    )
    assert changed.status_code == 200
    with db.transaction() as session:
        segments.apply(session, plan)
    assert member_ids(client, store, segment["id"]) == set()


def test_an_event_bringing_a_date_into_reach_replans_the_check(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    """A planned check is kept through an event only where time moves the answer one way;
    a relative date on an event's property may bring the answer forward: an event whose
    date is an hour ahead makes "twice in the last day" true in an hour, not when the first
    event's date leaves the day."""
    now = utcnow()
    within = {"property": "viewedAt", "op": "within_last", "value": {"days": 1}}
    twice = create_segment(client, store, {"event": "Viewed", "count": {"gte": 2}, "where": within})
    ago, ahead = now - timedelta(hours=2), now + timedelta(hours=1)
    ann = track(
        runtime, store.store_id, "ahead@x.io", "Viewed", properties={"viewedAt": ago.isoformat()}
    )
    worker.drain()
    track(
        runtime, store.store_id, "ahead@x.io", "Viewed", properties={"viewedAt": ahead.isoformat()}
    )
    worker.drain()
    assert member_ids(client, store, twice["id"]) == set()
    assert tasks.sweep(db, now + timedelta(hours=1, minutes=1)) >= 1
    assert member_ids(client, store, twice["id"]) == {ann}


def test_after_an_undone_merge_time_still_moves_the_contact_out(
    client: TestClient, runtime: Runtime, worker: Worker, db: Database, store: StoreFixture
) -> None:
    """Events that go back with an undone merge leave the survivor's time check right: here
    an older visit of her own, recorded after the merge, makes her leave within the hour."""
    now = utcnow()
    twice = create_segment(
        client, store, {"event": "Visited", "count": {"gte": 2}, "within": {"days": 1}}
    )
    eve = track(runtime, store.store_id, "undo@x.io", "Visited", at=now - timedelta(hours=3))
    for hours in (1, 2):
        track(
            runtime,
            store.store_id,
            None,
            "Visited",
            phone="+12025550177",
            at=now - timedelta(hours=hours),
        )
    worker.drain()
    track(runtime, store.store_id, "undo@x.io", "Linked", phone="+12025550177")
    worker.drain()
    # An older visit of Eve's own: four in the day, still a member.
    track(runtime, store.store_id, "undo@x.io", "Visited", at=now - timedelta(hours=23))
    worker.drain()
    assert eve in member_ids(client, store, twice["id"])
    undo_merge(client, store, eve)
    worker.drain()
    # Two visits left (3 and 23 hours ago): a member until the older one leaves the day.
    assert eve in member_ids(client, store, twice["id"])
    tasks.sweep(db, now + timedelta(hours=1, minutes=1))
    assert eve not in member_ids(client, store, twice["id"])


def undo_merge(client: TestClient, store: StoreFixture, contact_id: int) -> None:
    """Undo the merge into ``contact_id`` through the API."""
    merges = client.get(
        "/v1/contact-merges", params={"contactId": contact_id}, headers=store.headers
    ).json()["items"]
    undone = client.post(f"/v1/contact-merges/{merges[0]['id']}/undo", headers=store.headers)
    assert undone.status_code == 200, undone.text
