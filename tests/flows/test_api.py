"""The flows API on both engines: drafts, publish and versions, pause and resume, runs and
their step log, stats, test runs, the 422 paths and tenancy. The welcome email is a real
template made through the templates API; what a run sent is read from the store's
``messages`` rows and the loopback SMTP server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cartwheel.db import Database
from cartwheel.models import OutboxMessage
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Channel, Clock, publish, runs, template, track


@pytest.fixture
def hello(client: TestClient, store: StoreFixture) -> int:
    """The welcome email (marketing), through the templates API."""
    return template(client, store, "Welcome, {{ contact.email }}")


def welcome(template_id: int, hours: int = 2) -> dict[str, Any]:
    return {
        "name": "Welcome",
        "trigger": {"event": "Signed Up"},
        "exitOn": [{"event": "Unsubscribed"}],
        "goal": {"event": "Order Placed", "within": {"days": 3}},
        "start": "pause",
        "steps": {
            "pause": {"type": "wait", "for": {"hours": hours}, "next": "hello"},
            "hello": {"type": "send_email", "template": template_id, "next": "end"},
            "end": {"type": "exit"},
        },
    }


def signup(runtime: Runtime, store: StoreFixture, email: str, clock: Clock) -> int:
    """A signup that subscribes the contact to email marketing."""
    return track(
        runtime, store.store_id, email, "Signed Up", at=clock.now, fields={"subscribed": True}
    )


def welcomed(channel: Channel, contact_id: int, email: str) -> list[tuple[str, str | None]]:
    """The contact's sent messages (status, subject), each checked against the SMTP server."""
    rows = channel.sent_to(contact_id)
    subjects = [m.message["Subject"] for m in channel.emails(email)]
    # Parallel SMTP connections: arrival order within one batch is not promised.
    assert sorted(subjects) == sorted(r.subject for r in rows if r.status == "sent")
    return [(r.status, r.subject) for r in rows]


def test_a_flow_is_a_draft_until_published_and_lists_its_runs(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    created = client.post("/v1/flows", json=welcome(hello), headers=store.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "draft" and body["version"] is None and not body["published"]
    flow = body["id"]
    ann = signup(runtime, store, "ann@flow.io", clock)
    flow_worker.drain()
    assert runs(db, flow) == []  # a draft starts nothing

    published = client.post(f"/v1/flows/{flow}/publish", headers=store.headers).json()
    assert published["state"] == "live" and published["version"] == 1 and published["published"]
    signup(runtime, store, "ann@flow.io", clock)
    flow_worker.drain()
    clock.advance(hours=2)
    flow_worker.drain()
    [run] = runs(db, flow)
    assert run.state == "done"
    assert welcomed(channel, ann, "ann@flow.io") == [("sent", "Welcome, ann@flow.io")]

    listed = client.get(f"/v1/flows/{flow}/runs", headers=store.headers).json()
    assert listed["totalCount"] == 1 and listed["items"][0]["contactId"] == ann
    assert (
        client.get(
            f"/v1/flows/{flow}/runs", params={"state": "active"}, headers=store.headers
        ).json()["totalCount"]
        == 0
    )
    assert (
        client.get(
            f"/v1/flows/{flow}/runs", params={"contactId": ann + 1000}, headers=store.headers
        ).json()["totalCount"]
        == 0
    )
    assert (
        client.get(
            f"/v1/flows/{flow}/runs", params={"state": "nope"}, headers=store.headers
        ).status_code
        == 400
    )
    detail = client.get(f"/v1/flow-runs/{run.id}", headers=store.headers).json()
    assert [(s["step"], s["status"]) for s in detail["steps"]] == [
        ("pause", "done"),
        ("hello", "done"),
        ("end", "done"),
    ]
    assert detail["steps"][1]["detail"]["messageId"]
    assert detail["steps"][0]["finishedAt"] > detail["steps"][0]["enteredAt"]
    all_flows = client.get("/v1/flows", headers=store.headers).json()
    assert all_flows["totalCount"] == 1 and all_flows["items"][0]["runs"] == {"done": 1}


def test_runs_continue_on_the_version_they_started_on(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    second = template(client, store, "Version two, {{ contact.email }}")
    text = template(client, store, channel="sms", text="Hi")
    flow = publish(client, store, welcome(hello, hours=2))
    old = signup(runtime, store, "old@flow.io", clock)
    flow_worker.drain()
    # An SMS template in a send_email step: a 422 at its path, nothing saved.
    wrong = client.put(f"/v1/flows/{flow}", json=welcome(text), headers=store.headers)
    assert wrong.status_code == 422 and "steps.hello.template" in wrong.json()["errors"]
    fixed = welcome(second, hours=1)
    changed = client.put(f"/v1/flows/{flow}", json=fixed, headers=store.headers)
    assert changed.status_code == 200, changed.text
    assert not changed.json()["published"] and changed.json()["version"] == 1
    republished = client.post(f"/v1/flows/{flow}/publish", headers=store.headers).json()
    assert republished["version"] == 2
    # Publishing again without a change makes no new version.
    assert client.post(f"/v1/flows/{flow}/publish", headers=store.headers).json()["version"] == 2
    new = signup(runtime, store, "new@flow.io", clock)
    flow_worker.drain()
    clock.advance(hours=1)
    flow_worker.drain()
    assert welcomed(channel, new, "new@flow.io") == [("sent", "Version two, new@flow.io")]
    assert welcomed(channel, old, "old@flow.io") == []
    clock.advance(hours=1)
    flow_worker.drain()
    assert welcomed(channel, old, "old@flow.io") == [("sent", "Welcome, old@flow.io")]
    assert [r.template_id for r in channel.rows()] == [second, hello]
    assert {(r.contact_id, r.version) for r in runs(db, flow)} == {(old, 1), (new, 2)}


def test_a_paused_flow_starts_nothing_and_holds_its_runs_until_resumed(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    flow = publish(client, store, welcome(hello))
    held = signup(runtime, store, "held@flow.io", clock)
    gone = signup(runtime, store, "gone@flow.io", clock)
    flow_worker.drain()
    paused = client.post(f"/v1/flows/{flow}/pause", headers=store.headers).json()
    assert paused["state"] == "paused"
    late = signup(runtime, store, "late@flow.io", clock)
    track(runtime, store.store_id, "gone@flow.io", "Unsubscribed", at=clock.now)
    clock.advance(hours=5)
    flow_worker.drain()
    assert welcomed(channel, held, "held@flow.io") == []
    assert {r.contact_id for r in runs(db, flow)} == {held, gone}
    assert all(r.state == "active" and r.step == "pause" for r in runs(db, flow))
    # Held: the sweep that found them due cleared their timers, so no sweep reads them
    # again while the flow is paused.
    assert all(r.wake_at is None for r in runs(db, flow))

    resumed = client.post(f"/v1/flows/{flow}/resume", headers=store.headers).json()
    assert resumed["state"] == "live"
    flow_worker.drain()
    by_contact = {r.contact_id: r for r in runs(db, flow)}
    assert by_contact[held].state == "done"
    assert welcomed(channel, held, "held@flow.io") == [("sent", "Welcome, held@flow.io")]
    # The exit that came while paused is honoured before any step.
    assert by_contact[gone].state == "exited" and welcomed(channel, gone, "gone@flow.io") == []
    assert late not in by_contact and welcomed(channel, late, "late@flow.io") == []


def test_run_state_changes_are_outbox_messages_for_webhooks(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    flow = publish(client, store, welcome(hello))

    def changes() -> list[tuple[str, int, int, str]]:
        with db.read() as session:
            found = session.execute(
                select(OutboxMessage.topic, OutboxMessage.payload)
                .where(
                    OutboxMessage.store_id == store.store_id,
                    OutboxMessage.topic.in_(["flow_run_started", "flow_run_finished"]),
                )
                .order_by(OutboxMessage.id)
            ).all()
        return [(t, p["run_id"], p["contact_id"], p["state"]) for t, p in found]

    # No webhook subscribes to run changes: none is written (nothing else reads them).
    signup(runtime, store, "quiet@flow.io", clock)
    flow_worker.drain()
    clock.advance(hours=3)
    flow_worker.drain()
    assert [run.state for run in runs(db, flow)] == ["done"]
    assert changes() == []
    created = client.post(
        "/v1/webhooks",
        json={
            "target": "http://127.0.0.1:9/hooks",
            "events": ["flow_run_started", "flow_run_finished"],
        },
        headers=store.headers,
    )
    assert created.status_code == 201, created.text
    ann = signup(runtime, store, "out@flow.io", clock)
    flow_worker.drain()
    clock.advance(hours=3)
    flow_worker.drain()
    [run] = [r for r in runs(db, flow) if r.contact_id == ann]
    assert changes() == [
        ("flow_run_started", run.id, ann, "active"),
        ("flow_run_finished", run.id, ann, "done"),
    ]


def test_stats_count_each_step_and_the_goal(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    flow = publish(client, store, welcome(hello))
    a = signup(runtime, store, "s1@flow.io", clock)
    signup(runtime, store, "s2@flow.io", clock)
    signup(runtime, store, "s3@flow.io", clock)
    flow_worker.drain()
    track(runtime, store.store_id, "s2@flow.io", "Unsubscribed", at=clock.now)
    flow_worker.drain()
    # Two runs wait in the pause (their visits have no row yet), one left it.
    stats = client.get(f"/v1/flows/{flow}/stats", headers=store.headers).json()
    pause = {s["step"]: s for s in stats["steps"]}["pause"]
    assert (pause["entered"], pause["waiting"], pause["exited"], pause["done"]) == (3, 2, 1, 0)
    clock.advance(hours=2)
    track(runtime, store.store_id, "s1@flow.io", "Order Placed", at=clock.now)
    flow_worker.drain()
    stats = client.get(f"/v1/flows/{flow}/stats", headers=store.headers).json()
    by_step = {s["step"]: s for s in stats["steps"]}
    assert by_step["pause"]["entered"] == 3 and by_step["pause"]["exited"] == 1
    assert by_step["hello"]["done"] == 2 and by_step["end"]["done"] == 2
    assert stats["runs"] == {"done": 2, "exited": 1}
    assert stats["conversions"]["runs"] == 3 and stats["conversions"]["converted"] == 1
    assert a in {r.contact_id for r in runs(db, flow)}


def test_conversions_count_the_same_with_few_goal_events_and_with_many(
    client: TestClient,
    runtime: Runtime,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    """The stats probe only the goal's contacts' runs while the goal's events since the
    first run are fewer than the runs, and every run once they are not: both count the
    same runs (a goal event before a run's start, after its window or of another contact
    without a run converts nothing)."""
    flow = publish(client, store, welcome(hello))
    before = clock.now
    clock.advance(hours=1)
    signup(runtime, store, "c1@flow.io", clock)
    signup(runtime, store, "c2@flow.io", clock)
    signup(runtime, store, "c3@flow.io", clock)
    flow_worker.drain()
    track(runtime, store.store_id, "c2@flow.io", "Order Placed", at=before)
    track(runtime, store.store_id, "c3@flow.io", "Order Placed", at=clock.now + timedelta(days=4))
    clock.advance(hours=5)
    track(runtime, store.store_id, "c1@flow.io", "Order Placed", at=clock.now)

    def converted() -> int:
        answer = client.get(f"/v1/flows/{flow}/stats", headers=store.headers)
        assert answer.status_code == 200, answer.text
        goal = answer.json()["conversions"]
        assert goal["runs"] == 3
        return int(goal["converted"])

    # Two goal events since the first run (c1's, c3's late one): fewer than the 3 runs.
    assert converted() == 1
    for n in range(4):
        track(runtime, store.store_id, f"other{n}@flow.io", "Order Placed", at=clock.now)
    track(runtime, store.store_id, "c1@flow.io", "Order Placed", at=clock.now)
    # Seven goal events now: every run is probed, and the count is the same.
    assert converted() == 1


def test_the_test_endpoint_runs_with_waits_shortened_and_answers_the_step_log(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    definition = welcome(hello)
    definition["steps"]["pause"]["next"] = "check"
    definition["steps"]["check"] = {
        "type": "wait_for_event",
        "event": "Order Placed",
        "timeout": {"days": 2},
        "onEvent": "end",
        "onTimeout": "hello",
    }
    created = client.post("/v1/flows", json=definition, headers=store.headers).json()
    ann = signup(runtime, store, "test@flow.io", clock)
    flow_worker.drain()
    answer = client.post(
        f"/v1/flows/{created['id']}/test", json={"contactId": ann}, headers=store.headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["test"] and body["state"] == "done"
    assert [(s["step"], s["status"]) for s in body["steps"]] == [
        ("pause", "done"),
        ("check", "done"),
        ("hello", "done"),
        ("end", "done"),
    ]
    assert body["steps"][0]["detail"] == {"shortened": True}
    assert [r.contact_id for r in channel.rows()] == [ann]
    assert welcomed(channel, ann, "test@flow.io") == [("sent", "Welcome, test@flow.io")]
    assert [m.rcpt_tos for m in channel.smtp.received] == [["test@flow.io"]]
    # Test runs count in no figure.
    figures = client.get(f"/v1/flows/{created['id']}/stats", headers=store.headers).json()
    assert figures["runs"] == {}
    assert {s["step"]: s["entered"] for s in figures["steps"]} == dict.fromkeys(
        ("pause", "check", "hello", "end"), 0
    )
    missing = client.post(
        f"/v1/flows/{created['id']}/test", json={"contactId": 2_000_000}, headers=store.headers
    )
    assert missing.status_code == 404
    bad = client.post(f"/v1/flows/{created['id']}/test", json={"contact": 1}, headers=store.headers)
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"contact", "contactId"}


def _errors(client: TestClient, store: StoreFixture, definition: Any) -> dict[str, list[str]]:
    answer = client.post("/v1/flows", json=definition, headers=store.headers)
    assert answer.status_code == 422, answer.text
    errors: dict[str, list[str]] = answer.json()["errors"]
    return errors


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["steps"]["check"].update(onTimeout="nowhere"), "steps.check.onTimeout"),
        (lambda d: d["steps"].update(orphan={"type": "exit"}), "steps.orphan"),
        (lambda d: d["steps"]["remind"].update(template=99), "steps.remind.template"),
        (lambda d: d["steps"]["crm"].update(webhook="rh_nope"), "steps.crm.webhook"),
        (lambda d: d["steps"]["vip"].update({"if": {"segment": 999999}}), "steps.vip.if.segment"),
        (lambda d: d["steps"]["vip"].update({"if": {"profile": "x"}}), "steps.vip.if.profile"),
        (lambda d: d["steps"]["tag"].update(set={"shoeSize": 3}), "steps.tag.set.shoeSize"),
        (lambda d: d["steps"]["wait1"].update({"for": {"weeks": 1}}), "steps.wait1.for"),
        (lambda d: d.update(start="nope"), "start"),
        (lambda d: d["steps"]["check"].update(since="yesterday"), "steps.check.since"),
        (lambda d: d["exitOn"][0].update(match={"cartId": "$cart"}), "exitOn[0].match.cartId"),
        (lambda d: d["trigger"].update(key="$bad"), "trigger.key"),
        (
            lambda d: d["trigger"].update(where={"property": "x.y", "op": "eq", "value": 1}),
            "trigger.where.property",
        ),
        (lambda d: d["entry"].update(perKey="some"), "entry.perKey"),
        (lambda d: d["steps"]["remind"].update(colour="red"), "steps.remind.colour"),
    ],
)
def test_a_wrong_definition_is_a_422_naming_the_path(
    client: TestClient, store: StoreFixture, hello: int, change: Any, path: str
) -> None:
    from tests.flows.test_abandoned_cart import abandoned_cart

    definition = abandoned_cart(hello)
    definition["steps"]["remind"]["next"] = "vip"
    definition["steps"]["vip"] = {
        "type": "branch",
        "if": {"list": 1},
        "then": "crm",
        "else": "done",
    }
    definition["steps"]["crm"] = {"type": "send_webhook", "webhook": "rh_x", "next": "tag"}
    definition["steps"]["tag"] = {
        "type": "update_profile",
        "set": {"customFields.cartReminded": True},
        "next": "done",
    }
    change(definition)
    assert path in _errors(client, store, definition)


def test_a_loop_without_a_wait_is_refused_and_one_with_a_wait_is_not(
    client: TestClient, store: StoreFixture
) -> None:
    looping = {
        "name": "Loop",
        "trigger": {"event": "Ping"},
        "start": "a",
        "steps": {
            "a": {"type": "update_profile", "set": {"firstName": "A"}, "next": "b"},
            "b": {
                "type": "branch",
                "if": {"consent": "email", "status": "subscribed"},
                "then": "a",
                "else": "c",
            },
            "c": {"type": "exit"},
        },
    }
    errors = _errors(client, store, looping)
    assert any("A loop without a wait" in m for ms in errors.values() for m in ms)
    looping["steps"]["b"]["then"] = "w"
    looping["steps"]["w"] = {"type": "wait", "for": {"days": 1}, "next": "a"}
    assert client.post("/v1/flows", json=looping, headers=store.headers).status_code == 201


def test_another_stores_key_sees_and_changes_nothing(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    other_store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    flow = publish(client, store, welcome(hello))
    ann = signup(runtime, store, "ten@flow.io", clock)
    flow_worker.drain()
    [run] = runs(db, flow)
    other = other_store.headers
    for method, path, body in [
        ("GET", f"/v1/flows/{flow}", None),
        ("PUT", f"/v1/flows/{flow}", welcome(hello)),
        ("DELETE", f"/v1/flows/{flow}", None),
        ("POST", f"/v1/flows/{flow}/publish", None),
        ("POST", f"/v1/flows/{flow}/pause", None),
        ("POST", f"/v1/flows/{flow}/resume", None),
        ("GET", f"/v1/flows/{flow}/runs", None),
        ("GET", f"/v1/flows/{flow}/stats", None),
        ("POST", f"/v1/flows/{flow}/test", {"contactId": ann}),
        ("GET", f"/v1/flow-runs/{run.id}", None),
    ]:
        answer = client.request(method, path, json=body, headers=other)
        assert answer.status_code == 404, (method, path, answer.text)
    assert client.get("/v1/flows", headers=other).json()["totalCount"] == 0
    # The other store's flow, test run with store A's contact: 404 as well.
    # Store A's template is unknown to store B: a 422 at its path.
    borrowed = client.post("/v1/flows", json=welcome(hello), headers=other)
    assert borrowed.status_code == 422 and "steps.hello.template" in borrowed.json()["errors"]
    theirs = publish(client, other_store, welcome(template(client, other_store)))
    assert (
        client.post(f"/v1/flows/{theirs}/test", json={"contactId": ann}, headers=other).status_code
        == 404
    )
    mine = client.get(f"/v1/flows/{flow}", headers=store.headers).json()
    assert mine["state"] == "live" and mine["version"] == 1
    assert [r.state for r in runs(db, flow)] == ["active"]


def test_deleting_a_flow_ends_its_active_runs(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    flow = publish(client, store, welcome(hello))
    ann = signup(runtime, store, "del@flow.io", clock)
    flow_worker.drain()
    assert client.delete(f"/v1/flows/{flow}", headers=store.headers).status_code == 204
    assert client.get(f"/v1/flows/{flow}", headers=store.headers).status_code == 404
    [run] = runs(db, flow)
    assert run.state == "exited" and run.reason == "The flow was deleted."
    clock.advance(days=1)
    flow_worker.drain()
    assert welcomed(channel, ann, "del@flow.io") == []


def test_pause_and_resume_need_a_published_flow(
    client: TestClient, store: StoreFixture, hello: int
) -> None:
    created = client.post("/v1/flows", json=welcome(hello), headers=store.headers).json()
    for action in ("pause", "resume"):
        answer = client.post(f"/v1/flows/{created['id']}/{action}", headers=store.headers)
        assert answer.status_code == 409


def test_the_ready_order_confirmation_needs_a_known_template(
    client: TestClient, store: StoreFixture, other_store: StoreFixture, hello: int
) -> None:
    missing = client.post(
        "/v1/flows/ready/order-confirmation", json={"template": 77}, headers=store.headers
    )
    assert missing.status_code == 422 and "steps.confirm.template" in missing.json()["errors"]
    made = client.post(
        "/v1/flows/ready/order-confirmation", json={"template": hello}, headers=store.headers
    )
    assert made.status_code == 201 and made.json()["state"] == "live"
    assert (
        client.post(
            "/v1/flows/ready/nothing", json={"template": hello}, headers=store.headers
        ).status_code
        == 404
    )
    # Another store's template is as unknown as a missing one.
    theirs = client.post(
        "/v1/flows/ready/order-confirmation", json={"template": hello}, headers=other_store.headers
    )
    assert theirs.status_code == 422 and "steps.confirm.template" in theirs.json()["errors"]


def test_a_merge_and_a_delete_end_the_runs_of_contacts_that_are_gone(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    hello: int,
) -> None:
    """A phone-only contact and an email contact each start a run; an event naming both
    merges the first into the second. The survivor's run goes on; the merged-away
    contact's run (the same key: it cannot move beside the survivor's) ends at its next
    step. A deleted contact's run ends the same way. Nothing is sent to either."""
    from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints

    flow = publish(client, store, welcome(hello))
    phone_only = IdentityHints()
    phone_only.add("phone", "+15550199001")
    [first] = runtime.writer.submit_sync(
        [CanonicalEvent(store.store_id, "Signed Up", phone_only, occurred_at=clock.now)]
    )
    merged = first.contact_id
    survivor = signup(runtime, store, "merged@flow.io", clock)
    gone = signup(runtime, store, "gone2@flow.io", clock)
    flow_worker.drain()
    both = IdentityHints()
    both.add("email", "merged@flow.io")
    both.add("phone", "+15550199001")
    [proof] = runtime.writer.submit_sync(
        [CanonicalEvent(store.store_id, "Seen", both, occurred_at=clock.now)]
    )
    assert proof.contact_id == survivor
    assert client.delete(f"/v1/contacts/{gone}", headers=store.headers).status_code == 204
    clock.advance(hours=2)
    flow_worker.drain()
    by_contact = {r.contact_id: r for r in runs(db, flow)}
    assert by_contact[survivor].state == "done"
    assert welcomed(channel, survivor, "merged@flow.io") == [("sent", "Welcome, merged@flow.io")]
    assert by_contact[merged].state == by_contact[gone].state == "exited"
    assert [r.contact_id for r in channel.rows()] == [survivor]
    assert len(channel.smtp.received) == 1
    assert "merged" in (by_contact[merged].reason or "")
