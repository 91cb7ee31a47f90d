"""Consent applies to what flows send, on both engines: a marketing email to a contact
without email consent is queued by the step and then skipped by the messages channel (the
run's step log names the message, the message says why, the SMTP server receives nothing),
while a transactional one still goes; and a flow's entry filter, checked again before every
send, skips the send of a contact who unsubscribed while the run waited (no message at
all)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Channel, Clock, cart, publish, runs, template, track
from tests.flows.test_abandoned_cart import SUBJECT, abandoned_cart


def test_marketing_email_needs_consent_and_transactional_does_not(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
) -> None:
    news = template(client, store, "News for {{ contact.email }}")
    receipt = template(client, store, "Your account, {{ contact.email }}", topic="transactional")
    flow = publish(
        client,
        store,
        {
            "name": "Welcome",
            "trigger": {"event": "Signed Up"},
            "start": "news",
            "steps": {
                "news": {"type": "send_email", "template": news, "next": "receipt"},
                "receipt": {"type": "send_email", "template": receipt, "next": "end"},
                "end": {"type": "exit"},
            },
        },
    )
    yes = track(
        runtime,
        store.store_id,
        "yes@consent.io",
        "Signed Up",
        at=clock.now,
        fields={"subscribed": True},
    )
    no = track(runtime, store.store_id, "no@consent.io", "Signed Up", at=clock.now)
    flow_worker.drain()
    assert {r.state for r in runs(db, flow)} == {"done"}

    assert [(r.template_id, r.status) for r in channel.sent_to(yes)] == [
        (news, "sent"),
        (receipt, "sent"),
    ]
    # The SMTP connections send in parallel: arrival order between two messages is not
    # promised, so the received subjects are compared as a sorted list.
    assert sorted(m.message["Subject"] for m in channel.emails("yes@consent.io")) == [
        "News for yes@consent.io",
        "Your account, yes@consent.io",
    ]
    refused, sent = channel.sent_to(no)
    assert (refused.template_id, refused.status, refused.reason) == (
        news,
        "skipped",
        "The contact has not consented to email marketing.",
    )
    assert (sent.template_id, sent.status) == (receipt, "sent")
    assert [m.message["Subject"] for m in channel.emails("no@consent.io")] == [
        "Your account, no@consent.io"
    ]
    # What the flow records: the step queued its message (done, naming it); the message
    # records that the channel skipped it, and why.
    [run] = [r for r in runs(db, flow) if r.contact_id == no]
    steps = client.get(f"/v1/flow-runs/{run.id}", headers=store.headers).json()["steps"]
    assert [(s["step"], s["status"]) for s in steps] == [
        ("news", "done"),
        ("receipt", "done"),
        ("end", "done"),
    ]
    assert steps[0]["detail"]["messageId"] == str(refused.id)
    shown = client.get(f"/v1/messages/{refused.id}", headers=store.headers).json()
    assert shown["status"] == "skipped" and shown["lastError"] == refused.reason


def test_the_entry_filter_is_checked_again_before_the_send(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
) -> None:
    reminder = template(client, store, SUBJECT)
    flow = publish(client, store, abandoned_cart(reminder))
    kim = cart(runtime, store.store_id, "kim@consent.io", "c1", clock.now)
    lee = cart(runtime, store.store_id, "lee@consent.io", "c2", clock.now)
    flow_worker.drain()
    clock.advance(hours=2)
    # Kim unsubscribes while the run waits (the store's signal on a later event).
    track(
        runtime,
        store.store_id,
        "kim@consent.io",
        "Profile updated",
        at=clock.now,
        fields={"subscribed": False},
    )
    flow_worker.drain()
    for hours in (2, 20):
        clock.advance(hours=hours)
        flow_worker.drain()
    by_contact = {r.contact_id: r for r in runs(db, flow)}
    assert by_contact[kim].state == by_contact[lee].state == "done"
    steps = client.get(f"/v1/flow-runs/{by_contact[kim].id}", headers=store.headers).json()
    remind = [s for s in steps["steps"] if s["step"] == "remind"]
    assert [(s["status"], s["reason"]) for s in remind] == [
        ("skipped", "The entry filter no longer holds.")
    ]
    assert channel.sent_to(kim) == [] and channel.emails("kim@consent.io") == []
    assert [(r.status, r.subject) for r in channel.sent_to(lee)] == [
        ("sent", "Your cart c2 is waiting")
    ]
    assert len(channel.emails("lee@consent.io")) == 1
