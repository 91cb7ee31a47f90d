"""Every step of the issue's abandoned-cart definition for real (branch on a segment, a
signed webhook to a loopback receiver, a profile update, a list), segment and date
triggers, a wait until a time of day in the contact's zone, and workers sharing due runs,
on both engines. Sends go through the real messages channel to the loopback SMTP server and
SMS provider; consent applies."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from standardwebhooks import Webhook

from cartwheel.config import Settings
from cartwheel.db import Database
from cartwheel.flows import timers
from cartwheel.flows.schemas import ABANDONED_CART
from cartwheel.messages import consent
from cartwheel.models import Contact, FlowRunStep
from cartwheel.runtime import Runtime
from cartwheel.webhooks.delivery import DeliveryTask
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Channel, Clock, cart, publish, runs, template, track
from tests.webhooks.conftest import Receiver, serve


def test_the_issues_abandoned_cart_runs_every_step(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    settings: Settings,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
) -> None:
    reminder = template(client, store, "Your cart {{ data.key }}")
    vip = client.post(
        "/v1/segments",
        json={
            "name": "VIP",
            "condition": {"profile": "customFields.tier", "op": "eq", "value": "vip"},
        },
        headers=store.headers,
    ).json()
    reminded = client.post(
        "/v1/subscriber-lists", json={"name": "Reminded"}, headers=store.headers
    ).json()
    with serve(Receiver()) as receiver:
        hook = client.post(
            "/v1/webhooks",
            json={"target": receiver.url, "events": ["order_created"]},
            headers=store.headers,
        ).json()
        # The issue's example (flows.schemas.ABANDONED_CART) with this store's ids, and a
        # list step after the profile update.
        definition: dict[str, Any] = copy.deepcopy(ABANDONED_CART)
        steps = definition["steps"]
        steps["remind"]["template"] = reminder
        steps["vip"]["if"] = {"segment": vip["id"]}
        steps["crm"]["webhook"] = hook["id"]
        steps["tag"]["set"]["firstName"] = "Val"
        steps["tag"]["next"] = "list"
        steps["list"] = {"type": "add_to_list", "list": reminded["id"], "next": "done"}
        flow = publish(client, store, definition)
        track(runtime, store.store_id, "val@steps.io", "Profile", at=clock.now)
        flow_worker.drain()
        with db.transaction() as session:
            contact = session.scalars(
                select(Contact).where(
                    Contact.store_id == store.store_id, Contact.email == "val@steps.io"
                )
            ).one()
            contact.custom_fields = {"tier": "vip"}
            contact.subscribed = True
        client.put(  # re-check the segment through the API's own change path
            f"/v1/segments/{vip['id']}",
            json={"condition": {"profile": "customFields.tier", "op": "in", "value": ["vip"]}},
            headers=store.headers,
        )
        val = cart(runtime, store.store_id, "val@steps.io", "c1", clock.now)
        plain = cart(runtime, store.store_id, "pat@steps.io", "c2", clock.now)
        flow_worker.drain()
        for hours in (4, 20):
            clock.advance(hours=hours)
            flow_worker.drain()
        task = DeliveryTask(settings, clock=clock)
        try:
            for _ in range(200):
                if not task(db) and receiver.delivered:
                    break
        finally:
            task.close()

        by_contact = {r.contact_id: r for r in runs(db, flow)}
        assert by_contact[val].state == by_contact[plain].state == "done"
        detail = client.get(f"/v1/flow-runs/{by_contact[val].id}", headers=store.headers).json()
        assert [s["step"] for s in detail["steps"]] == [
            "wait1",
            "check",
            "remind",
            "vip",
            "crm",
            "tag",
            "list",
            "done",
        ]
        assert detail["steps"][3]["detail"] == {"branch": "then"}
        plain_steps = client.get(
            f"/v1/flow-runs/{by_contact[plain].id}", headers=store.headers
        ).json()["steps"]
        assert [s["step"] for s in plain_steps] == ["wait1", "check", "remind", "vip", "done"]

        [request] = receiver.delivered
        body = Webhook(hook["secret"]).verify(request.body, request.headers)
        assert body["flowId"] == flow and body["contact"]["id"] == val
        assert body["trigger"]["entity"]["id"] == "c1" and body["step"] == "crm"
        assert request.headers["webhook-id"] == detail["steps"][4]["detail"]["messageId"]

    shown = client.get(f"/v1/contacts/{val}", headers=store.headers).json()
    assert shown["customFields"]["cartReminded"] is True and shown["firstName"] == "Val"
    assert reminded["id"] in shown["subscriberLists"]
    for contact_id, email, key in ((val, "val@steps.io", "c1"), (plain, "pat@steps.io", "c2")):
        rows = channel.sent_to(contact_id)
        assert [(r.status, r.template_id, r.subject) for r in rows] == [
            ("sent", reminder, f"Your cart {key}")
        ]
        assert [m.message["Subject"] for m in channel.emails(email)] == [f"Your cart {key}"]


def test_segment_entered_starts_a_run_and_texts_only_who_consented(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
) -> None:
    """A marketing SMS needs a granted SMS consent: the contact without one gets a
    ``skipped`` message row saying so, and the provider receives nothing for them; the
    run still finishes (the step queued its message; the channel decided not to send)."""
    text = template(client, store, channel="sms", text="Thanks for buying, {{ contact.email }}!")
    segment = client.post(
        "/v1/segments",
        json={"name": "Buyers", "condition": {"event": "Bought"}},
        headers=store.headers,
    ).json()
    flow = publish(
        client,
        store,
        {
            "name": "Welcome buyers",
            "trigger": {"segment_entered": segment["id"]},
            "start": "hi",
            "steps": {
                "hi": {"type": "send_sms", "template": text, "next": "end"},
                "end": {"type": "exit"},
            },
        },
    )
    ann = track(runtime, store.store_id, "seg@steps.io", "Seen", phone="+14155550111", at=clock.now)
    bob = track(runtime, store.store_id, "no@steps.io", "Seen", phone="+14155550122", at=clock.now)
    with db.transaction() as session:
        person = session.get(Contact, ann)
        assert person is not None
        consent.set_consent(session, person, "sms", "marketing", True, "api")
    for email in ("seg@steps.io", "no@steps.io"):
        track(runtime, store.store_id, email, "Bought", at=clock.now)
    flow_worker.drain()
    by_contact = {r.contact_id: r for r in runs(db, flow)}
    assert set(by_contact) == {ann, bob}
    assert by_contact[ann].trigger["source"] == "segment_entered"
    assert {r.state for r in by_contact.values()} == {"done"}

    [sent] = channel.sent_to(ann)
    assert (sent.channel, sent.status, sent.template_id, sent.to_address) == (
        "sms",
        "sent",
        text,
        "+14155550111",
    )
    assert [t["Body"] for t in channel.texts("+14155550111")] == [
        "Thanks for buying, seg@steps.io!"
    ]
    [refused] = channel.sent_to(bob)
    assert (refused.status, refused.reason) == (
        "skipped",
        "The contact has not consented to SMS marketing.",
    )
    assert channel.texts("+14155550122") == []
    # The run's step log names the message; the message says why it was not sent.
    detail = client.get(f"/v1/flow-runs/{by_contact[bob].id}", headers=store.headers).json()
    message_id = detail["steps"][0]["detail"]["messageId"]
    shown = client.get(f"/v1/messages/{message_id}", headers=store.headers).json()
    assert shown["status"] == "skipped" and "consented" in shown["lastError"]

    unknown = client.post(
        "/v1/flows",
        json={
            **{"name": "x", "start": "e", "steps": {"e": {"type": "exit"}}},
            "trigger": {"segment_exited": 999999},
        },
        headers=store.headers,
    )
    assert unknown.status_code == 422 and "trigger.segment_exited" in unknown.json()["errors"]


def test_a_birthday_starts_a_run_on_its_day_each_year_and_waits_for_nine_local(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    settings: Settings,
    store: StoreFixture,
    channel: Channel,
) -> None:
    wishes = template(client, store, "Happy birthday, {{ contact.email }}")
    clock = Clock(datetime(2027, 7, 3, 12, 0, tzinfo=UTC))
    worker = Worker(db, settings, clock=clock)
    flow = publish(
        client,
        store,
        {
            "name": "Birthday",
            "trigger": {"date": "customFields.Birthday"},
            "start": "morning",
            "steps": {
                "morning": {"type": "wait", "until": {"time": "09:00"}, "next": "wish"},
                "wish": {"type": "send_email", "template": wishes, "next": "end"},
                "end": {"type": "exit"},
            },
        },
    )
    people = (
        ("bd1@steps.io", "1976-07-04T12:00:00Z", "America/New_York"),
        ("bd2@steps.io", "1990-12-25", None),
    )
    for email, _, _ in people:
        track(runtime, store.store_id, email, "Seen", at=clock.now)
    with db.transaction() as session:
        for email, birthday, zone in people:
            row = session.scalars(
                select(Contact).where(Contact.store_id == store.store_id, Contact.email == email)
            ).one()
            row.custom_fields = {"Birthday": birthday}
            row.timezone = zone
            row.subscribed = True
    worker.drain()
    assert runs(db, flow) == []  # published on the 3rd: its day is handled from then on
    timers.DATE_CHECK = timedelta(0)
    try:
        clock.now = datetime(2027, 7, 4, 0, 5, tzinfo=UTC)
        worker = Worker(db, settings, clock=clock)
        worker.drain()
        [run] = runs(db, flow)
        assert run.key == "2027" and run.state == "active"
        # 09:00 in New York on the 4th is 13:00 UTC.
        assert run.wake_at == datetime(2027, 7, 4, 13, 0, tzinfo=UTC)
        clock.now = datetime(2027, 7, 4, 12, 59, tzinfo=UTC)
        worker.drain()
        assert channel.sent_to(run.contact_id) == []
        clock.now = datetime(2027, 7, 4, 13, 0, tzinfo=UTC)
        worker.drain()
        assert [(r.status, r.subject) for r in channel.sent_to(run.contact_id)] == [
            ("sent", "Happy birthday, bd1@steps.io")
        ]
        assert len(channel.emails("bd1@steps.io")) == 1 and channel.emails("bd2@steps.io") == []
        clock.now = datetime(2027, 7, 5, 0, 5, tzinfo=UTC)
        worker.drain()
        assert len(runs(db, flow)) == 1  # once a year
    finally:
        timers.DATE_CHECK = timedelta(minutes=1)


def test_workers_share_due_runs_without_doing_a_step_twice(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    settings: Settings,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
) -> None:
    flow = publish(
        client,
        store,
        {
            "name": "Shared",
            "trigger": {"event": "Joined"},
            "start": "w",
            "steps": {
                "w": {"type": "wait", "for": {"minutes": 5}, "next": "tag"},
                "tag": {"type": "update_profile", "set": {"customFields.shared": 1}, "next": "end"},
                "end": {"type": "exit"},
            },
        },
    )
    for i in range(90):
        track(runtime, store.store_id, f"w{i}@steps.io", "Joined", at=clock.now)
    flow_worker.drain()
    clock.advance(minutes=5)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                timers.sweep(db, clock.now, 7)
        except BaseException as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {r.state for r in runs(db, flow)} == {"done"}
    with db.read() as session:
        per_run = session.execute(
            select(FlowRunStep.run_id, func.count())
            .where(FlowRunStep.flow_id == flow)
            .group_by(FlowRunStep.run_id)
        ).all()
    assert len(per_run) == 90 and {count for _, count in per_run} == {3}
