"""The abandoned-cart ordering cases, on both engines, with the clock injected: the reminder
never reaches someone who ordered at or after the cart's last change, whether the order is
processed before the run starts, while it waits, or after a later cart event; an order that
names its cart ends only that cart's run; a second cart is its own run; silent orders do
nothing. What is asserted is what the real messages channel did: the store's ``messages``
rows and the mail the loopback SMTP server received after the send task ran."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cartwheel.db import Database
from cartwheel.runtime import Runtime
from cartwheel.worker.runner import Worker
from tests.conftest import StoreFixture
from tests.flows.helpers import Channel, Clock, cart, order, publish, runs, template

SUBJECT = "Your cart {{ data.key }} is waiting"


@pytest.fixture
def reminder(client: TestClient, store: StoreFixture) -> int:
    """The reminder: a marketing email made through the templates API."""
    return template(client, store, SUBJECT, html="<p>{{ event.name }}: {{ cart.externalId }}</p>")


def assert_nothing_reached(channel: Channel, contact_id: int, email: str) -> None:
    """No message row for the contact, and nothing at the SMTP server, after a send pass."""
    assert channel.sent_to(contact_id) == []
    assert channel.emails(email) == []


def assert_reminded_once(
    channel: Channel, contact_id: int, email: str, template_id: int, key: str
) -> None:
    """One sent reminder, about the cart ``key``: one row, one mail, the subject naming it."""
    subject = f"Your cart {key} is waiting"
    rows = channel.sent_to(contact_id)
    assert [(r.status, r.template_id, r.subject, r.to_address) for r in rows] == [
        ("sent", template_id, subject, email)
    ]
    assert [m.message["Subject"] for m in channel.emails(email)] == [subject]


def abandoned_cart(template_id: int, *, match: bool = False, reentry: Any = None) -> dict[str, Any]:
    exit_on: dict[str, Any] = {"event": {"category": "order"}, "since": "trigger"}
    check: dict[str, Any] = {
        "type": "wait_for_event",
        "event": {"category": "order"},
        "since": "trigger",
        "timeout": {"hours": 20},
        "onEvent": "done",
        "onTimeout": "remind",
    }
    if match:
        exit_on["match"] = {"cartId": "$trigger.key"}
        check["match"] = {"cartId": "$trigger.key"}
    return {
        "name": "Abandoned cart",
        "trigger": {"event": {"category": "cart", "action": "updated"}, "key": "entity.id"},
        "entry": {
            "filter": {"consent": "email", "status": "subscribed"},
            "reentry": reentry if reentry is not None else {"after": {"days": 7}},
            "perKey": "one_active",
        },
        "exitOn": [exit_on],
        "start": "wait1",
        "steps": {
            "wait1": {"type": "wait", "for": {"hours": 4}, "next": "check"},
            "check": check,
            "remind": {"type": "send_email", "template": template_id, "next": "done"},
            "done": {"type": "exit"},
        },
    }


def finish_a_day(worker: Worker, clock: Clock) -> None:
    """Let every timer of a cart run fire: 4 h, then the 20 h timeout, then a day more."""
    for hours in (4, 20, 24):
        clock.advance(hours=hours)
        worker.drain()


def test_no_order_means_one_reminder_after_the_wait_and_the_timeout(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
) -> None:
    flow = publish(client, store, abandoned_cart(reminder))
    ann = cart(runtime, store.store_id, "ann@cart.io", "c1", clock.now)
    flow_worker.drain()
    [run] = runs(db, flow)
    assert (run.state, run.step, run.waiting) == ("active", "wait1", {"kind": "timer"})
    clock.advance(hours=4)
    flow_worker.drain()
    [run] = runs(db, flow)
    assert run.step == "check" and run.waiting is not None and run.waiting["kind"] == "event"
    clock.advance(hours=19, minutes=59)
    flow_worker.drain()
    assert_nothing_reached(channel, ann, "ann@cart.io")
    clock.advance(minutes=1)
    flow_worker.drain()
    assert_reminded_once(channel, ann, "ann@cart.io", reminder, "c1")
    [mail] = channel.emails("ann@cart.io")
    assert "cart updated: c1" in mail.message.get_body(("html",)).get_content()
    [run] = runs(db, flow)
    assert run.state == "done" and run.step == "done"
    finish_a_day(flow_worker, clock)
    assert_reminded_once(channel, ann, "ann@cart.io", reminder, "c1")


def test_an_order_processed_before_the_run_starts_ends_it_at_once(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
) -> None:
    flow = publish(client, store, abandoned_cart(reminder))
    start = clock.now
    # The order (a minute after the cart changed) reaches the log, and is processed, first.
    bob = order(runtime, store.store_id, "bob@cart.io", start + timedelta(minutes=1))
    flow_worker.drain()
    cart(runtime, store.store_id, "bob@cart.io", "c1", start)
    flow_worker.drain()
    [run] = runs(db, flow)
    assert run.state == "exited" and run.reason is not None and "order created" in run.reason
    finish_a_day(flow_worker, clock)
    assert_nothing_reached(channel, bob, "bob@cart.io")


def test_a_cart_and_its_order_in_the_same_worker_pass(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
) -> None:
    flow = publish(client, store, abandoned_cart(reminder))
    cy = cart(runtime, store.store_id, "cy@cart.io", "c1", clock.now)
    order(runtime, store.store_id, "cy@cart.io", clock.now + timedelta(seconds=30))
    flow_worker.drain()
    [run] = runs(db, flow)
    assert run.state == "exited"
    finish_a_day(flow_worker, clock)
    assert_nothing_reached(channel, cy, "cy@cart.io")


@pytest.mark.parametrize("hours_later", [1, 5])
def test_an_order_while_the_run_waits_ends_it(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
    hours_later: int,
) -> None:
    """During the 4-hour wait, and during the wait for an order."""
    flow = publish(client, store, abandoned_cart(reminder))
    start = clock.now
    dee = cart(runtime, store.store_id, "dee@cart.io", "c1", start)
    flow_worker.drain()
    clock.advance(hours=hours_later)
    flow_worker.drain()
    order(runtime, store.store_id, "dee@cart.io", clock.now)
    flow_worker.drain()  # the order's own processing ends the run, no timer needed
    [run] = runs(db, flow)
    # exitOn ends a run wherever it is, also at the step that waits for the same event.
    assert run.state == "exited" and run.step == ("wait1" if hours_later < 4 else "check")
    assert run.wake_at is None
    finish_a_day(flow_worker, clock)
    assert_nothing_reached(channel, dee, "dee@cart.io")


def test_an_order_before_the_carts_last_change_does_not_end_its_run(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
) -> None:
    """The cart changed after the order: it is a new cart to remind about. The later cart
    event refreshes the run's trigger moment; the order (earlier) arrives after it."""
    flow = publish(client, store, abandoned_cart(reminder))
    start = clock.now
    eve = cart(runtime, store.store_id, "eve@cart.io", "c1", start)
    flow_worker.drain()
    cart(runtime, store.store_id, "eve@cart.io", "c1", start + timedelta(minutes=10))
    flow_worker.drain()
    order(runtime, store.store_id, "eve@cart.io", start + timedelta(minutes=5))
    flow_worker.drain()
    [run] = runs(db, flow)  # one run for the cart, refreshed
    assert run.state == "active" and run.trigger_at == start + timedelta(minutes=10)
    finish_a_day(flow_worker, clock)
    assert_reminded_once(channel, eve, "eve@cart.io", reminder, "c1")


@pytest.mark.parametrize("reentry", ["always", {"after": {"days": 7}}])
def test_a_late_cart_event_after_the_order_starts_nothing_that_reminds(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
    reentry: Any,
) -> None:
    """Cart at t, order at t+10m, then a cart event of t+5m arrives late: the order is at
    or after that change too, so no reminder, whatever the re-entry rule."""
    flow = publish(client, store, abandoned_cart(reminder, reentry=reentry))
    start = clock.now
    fay = cart(runtime, store.store_id, "fay@cart.io", "c1", start)
    flow_worker.drain()
    order(runtime, store.store_id, "fay@cart.io", start + timedelta(minutes=10))
    flow_worker.drain()
    cart(runtime, store.store_id, "fay@cart.io", "c1", start + timedelta(minutes=5))
    flow_worker.drain()
    assert all(r.state == "exited" for r in runs(db, flow))
    assert len(runs(db, flow)) == (2 if reentry == "always" else 1)
    finish_a_day(flow_worker, clock)
    assert_nothing_reached(channel, fay, "fay@cart.io")


def test_a_second_cart_is_its_own_run_and_an_order_naming_its_cart_ends_only_that_one(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
) -> None:
    flow = publish(client, store, abandoned_cart(reminder, match=True))
    start = clock.now
    gus = cart(runtime, store.store_id, "gus@cart.io", "c1", start)
    cart(runtime, store.store_id, "gus@cart.io", "c2", start + timedelta(minutes=1))
    flow_worker.drain()
    assert sorted(r.key for r in runs(db, flow)) == ["c1", "c2"]
    clock.advance(hours=5)
    order(runtime, store.store_id, "gus@cart.io", clock.now, cart_id="c1")
    flow_worker.drain()
    by_key = {r.key: r for r in runs(db, flow)}
    assert by_key["c1"].state == "exited" and by_key["c2"].state == "active"
    finish_a_day(flow_worker, clock)
    assert_reminded_once(channel, gus, "gus@cart.io", reminder, "c2")


def test_without_a_cart_in_the_order_one_order_ends_every_cart_run_of_the_person(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
) -> None:
    flow = publish(client, store, abandoned_cart(reminder))
    start = clock.now
    hal = cart(runtime, store.store_id, "hal@cart.io", "c1", start)
    cart(runtime, store.store_id, "hal@cart.io", "c2", start + timedelta(minutes=1))
    flow_worker.drain()
    order(runtime, store.store_id, "hal@cart.io", start + timedelta(minutes=2))
    flow_worker.drain()
    assert [r.state for r in runs(db, flow)] == ["exited", "exited"]
    finish_a_day(flow_worker, clock)
    assert_nothing_reached(channel, hal, "hal@cart.io")


def test_a_silent_order_neither_ends_nor_advances_a_run(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
) -> None:
    flow = publish(client, store, abandoned_cart(reminder))
    ivy = cart(runtime, store.store_id, "ivy@cart.io", "c1", clock.now)
    flow_worker.drain()
    order(runtime, store.store_id, "ivy@cart.io", clock.now + timedelta(minutes=1), silent=True)
    # A silent cart event starts nothing either.
    cart(runtime, store.store_id, "ivy@cart.io", "c9", clock.now, silent=True)
    flow_worker.drain()
    [run] = runs(db, flow)
    assert run.state == "active" and run.key == "c1"
    finish_a_day(flow_worker, clock)
    assert_reminded_once(channel, ivy, "ivy@cart.io", reminder, "c1")


def test_the_entry_filter_keeps_unsubscribed_contacts_out(
    client: TestClient,
    runtime: Runtime,
    db: Database,
    store: StoreFixture,
    clock: Clock,
    flow_worker: Worker,
    channel: Channel,
    reminder: int,
) -> None:
    flow = publish(client, store, abandoned_cart(reminder))
    jo = cart(runtime, store.store_id, "jo@cart.io", "c1", clock.now, fields={"subscribed": False})
    flow_worker.drain()
    assert runs(db, flow) == []
    finish_a_day(flow_worker, clock)
    assert_nothing_reached(channel, jo, "jo@cart.io")
