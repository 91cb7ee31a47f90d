"""The incremental membership equals a from-scratch evaluation, always.

Hypothesis draws segment definitions (a small strategy over the node kinds: events by name
and by lifecycle kind with counts, sums, windows and ``where``; profile fields and custom
fields of every type, relative dates included; other segments; all/any/not), then a history
of events, profile changes and clock advances. After every step the worker's queues are
drained and the due checks swept at the test's clock, and each segment's members must equal
what :func:`oracle` computes: an independent pure-Python evaluator over the stored rows
(it shares nothing with the SQL compiler but the JSON of the definitions)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cartwheel.contacts import service as contacts
from cartwheel.contacts.schemas import ContactCreate
from cartwheel.db import Database
from cartwheel.lists import service as lists
from cartwheel.lists.schemas import SubscriberListContacts, SubscriberListCreate
from cartwheel.models import (
    Contact,
    Event,
    SegmentDay,
    SegmentMembership,
    SubscriberListContact,
)
from cartwheel.runtime import Runtime
from cartwheel.segments import service, tasks
from cartwheel.segments.schemas import parse_body
from cartwheel.worker.queue import Handler, process_events, process_outbox
from tests.conftest import engine_name, make_store
from tests.segments.helpers import track

EMAILS = ("a@x.io", "b@x.io", "c@x.io")
NAMES = ("A", "B")
KINDS = (("order", "completed"), ("order", "refunded"))
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# -- definitions ---------------------------------------------------------------------------------

count_ops = st.sampled_from(["eq", "gte", "lte", "gt", "lt"])
hours = st.integers(1, 72)


def event_leaf() -> st.SearchStrategy[dict[str, Any]]:
    target = st.one_of(
        st.sampled_from(NAMES),
        st.sampled_from(KINDS).map(lambda k: {"category": k[0], "action": k[1]}),
        st.just({"category": "order"}),
    )
    where = st.one_of(
        st.builds(
            lambda op, v: {"property": "total", "op": op, "value": v},
            st.sampled_from(["gte", "lt", "eq"]),
            st.integers(0, 100),
        ),
        st.builds(lambda v: {"property": "tier", "op": "eq", "value": v}, st.sampled_from("xy")),
        st.builds(lambda v: {"property": "tier", "op": "neq", "value": v}, st.sampled_from("xy")),
    )

    @st.composite
    def leaf(draw: st.DrawFn) -> dict[str, Any]:
        node: dict[str, Any] = {"event": draw(target)}
        measure = draw(st.sampled_from(["default", "count", "sum"]))
        if measure == "count":
            node["count"] = {draw(count_ops): draw(st.integers(0, 3))}
        elif measure == "sum":
            node["sum"] = draw(st.sampled_from(["value", "total"]))
            node["op"] = draw(count_ops)
            node["value"] = draw(st.integers(-50, 150))
        window = draw(st.sampled_from(["none", "relative", "absolute"]))
        if window == "relative":
            node["within"] = {"hours": draw(hours)}
        elif window == "absolute":
            node["within"] = {"after": (START - timedelta(hours=draw(hours))).isoformat()}
        if draw(st.booleans()):
            node["where"] = draw(where)
        return node

    return leaf()


profile_leaf = st.one_of(
    st.builds(
        lambda op, v: {"profile": "countryCode", "op": op, "value": v},
        st.sampled_from(["in", "not_in"]),
        st.sampled_from([["US"], ["US", "CA"]]),
    ),
    st.builds(
        lambda op, v: {"profile": "countryCode", "op": op, "value": v},
        st.sampled_from(["eq", "neq", "starts_with", "contains"]),
        st.sampled_from(["US", "C"]),
    ),
    st.sampled_from(
        [
            {"profile": "countryCode", "op": "exists"},
            {"profile": "customFields.Score", "op": "not_exists"},
        ]
    ),
    st.builds(
        lambda op, v: {"profile": "customFields.Score", "op": op, "value": v},
        st.sampled_from(["gt", "lte", "eq", "neq"]),
        st.integers(0, 10),
    ),
    st.builds(
        lambda a, b: {"profile": "customFields.Score", "op": "between", "value": [a, a + b]},
        st.integers(0, 10),
        st.integers(0, 5),
    ),
    st.builds(
        lambda op, h: {"profile": "customFields.Birthday", "op": op, "value": {"hours": h}},
        st.sampled_from(["within_last", "more_than_ago", "within_next"]),
        hours,
    ),
)


other_leaf = st.one_of(
    st.just({"list": "L"}),
    st.sampled_from(["subscribed", "unsubscribed"]).map(
        lambda status: {"consent": "email", "status": status}
    ),
)


def condition(earlier: int) -> st.SearchStrategy[dict[str, Any]]:
    leaves = [event_leaf(), profile_leaf, other_leaf]
    if earlier:
        leaves.append(st.integers(0, earlier - 1).map(lambda i: {"segment": -(i + 1)}))
    leaf = st.one_of(*leaves)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
            inner.map(lambda x: {"not": x}),
        ),
        max_leaves=4,
    )


@st.composite
def definitions(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [draw(condition(i)) for i in range(draw(st.integers(1, 4)))]


# -- histories -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Track:
    who: int
    target: Any  # a name, or (category, action)
    ago_minutes: int
    total: int | None
    tier: str | None
    value: int | None


@dataclass(frozen=True)
class Patch:
    who: int
    country: str | None
    score: int | None
    birthday_hours: int | None  # from the clock, may be negative (in the past)


@dataclass(frozen=True)
class Advance:
    minutes: int


@dataclass(frozen=True)
class Listed:
    """Through the store data API: on or off the list, subscribed or not."""

    who: int
    on_list: bool | None
    subscribed: bool | None


tracks = st.builds(
    Track,
    st.integers(0, len(EMAILS) - 1),
    st.one_of(st.sampled_from(NAMES), st.sampled_from(KINDS)),
    st.integers(0, 60 * 80),
    # Negative totals and values too: a refund's negative amount lowers a sum, so one more
    # event can take a contact out of a "sum at least" segment (segments/direction.py).
    st.one_of(st.none(), st.integers(-50, 100)),
    st.one_of(st.none(), st.sampled_from("xy")),
    st.one_of(st.none(), st.integers(-60, 120)),
)
patches = st.builds(
    Patch,
    st.integers(0, len(EMAILS) - 1),
    st.one_of(st.none(), st.sampled_from(["US", "CA", "FR"])),
    st.one_of(st.none(), st.integers(0, 10)),
    st.one_of(st.none(), st.integers(-80, 80)),
)
advances = st.builds(Advance, st.integers(1, 60 * 50))
listings = st.builds(
    Listed,
    st.integers(0, len(EMAILS) - 1),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.booleans()),
)
steps = st.lists(st.one_of(tracks, tracks, patches, advances, listings), min_size=1, max_size=10)


# -- the oracle ----------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse_moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def compare(op: str, left: float, right: float) -> bool:
    return {
        "eq": left == right,
        "gte": left >= right,
        "gt": left > right,
        "lte": left <= right,
        "lt": left < right,
    }[op]


def typed_value(value: Any, kind: str) -> Any:
    """``value`` if it has the segment type ``kind``, else None (missing)."""
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    return value if ok else None


def field_test(leaf: dict[str, Any], value: Any, kind: str, now: datetime) -> Any:
    op = leaf["op"]
    arg: Any = leaf.get("value")
    present = value is not None and (kind != "string" or value != "")
    if kind == "any":
        present = value is not None
    if op == "exists":
        return present
    if op == "not_exists":
        return not present
    if op == "neq":
        return not present or value != arg
    if op == "not_in":
        return not present or value not in arg
    if not present:
        return False
    if op in ("within_last", "more_than_ago", "within_next"):
        span = timedelta(hours=arg["hours"])
        moment = parse_moment(value)
        if op == "within_last":
            return now - span < moment <= now
        if op == "more_than_ago":
            return moment <= now - span
        return now < moment <= now + span
    if op == "in":
        return value in arg
    if op == "contains":
        return str(arg).lower() in value.lower()
    if op == "starts_with":
        return value.lower().startswith(str(arg).lower())
    if op == "between":
        return arg[0] <= value <= arg[1]
    return compare(op, value, arg)


def event_matches(leaf: dict[str, Any], event: Event, now: datetime) -> bool:
    target = leaf["event"]
    if isinstance(target, str):
        if event.name != target:
            return False
    elif event.category != target["category"] or (
        "action" in target and event.action != target["action"]
    ):
        return False
    within = leaf.get("within")
    if within is not None:
        if "hours" in within:
            if not event.occurred_at > now - timedelta(hours=within["hours"]):
                return False
        elif not event.occurred_at >= parse_moment(within["after"]):
            return False
    where = leaf.get("where")
    if where is not None:
        name = where["property"]
        kind = "number" if isinstance(where["value"], int) else "string"
        raw = event.properties.get(name) if event.property_types.get(name) == kind else None
        if not field_test(where, typed_value(raw, kind), kind, now):
            return False
    return True


def holds(
    node: dict[str, Any], contact: Contact, events: list[Event], now: datetime, members: Any
) -> bool:
    if "all" in node:
        return all(holds(n, contact, events, now, members) for n in node["all"])
    if "any" in node:
        return any(holds(n, contact, events, now, members) for n in node["any"])
    if "not" in node:
        return not holds(node["not"], contact, events, now, members)
    if "segment" in node:
        return contact.id in members(node["segment"])
    if "list" in node:
        return contact.id in members("list")
    if "consent" in node:
        return bool(contact.subscribed) is (node["status"] == "subscribed")
    if "event" in node:
        counted = [e for e in events if event_matches(node, e, now)]
        if "sum" in node:
            if node["sum"] == "value":
                total = sum(e.value or 0 for e in counted)
            else:
                total = sum(
                    typed_value(e.properties.get("total"), "number") or 0
                    if e.property_types.get("total") == "number"
                    else 0
                    for e in counted
                )
            return compare(node["op"], total, node["value"])
        ((op, n),) = (node.get("count") or {"gte": 1}).items()
        return compare(op, len(counted), n)
    field = node["profile"]
    if field == "countryCode":
        return bool(field_test(node, contact.country_code, "string", now))
    key = field.split(".", 1)[1]
    kind = "string" if key == "Birthday" else "number"
    if node["op"] in ("exists", "not_exists"):
        kind = "any"
    raw = (contact.custom_fields or {}).get(key)
    value = raw if kind == "any" else typed_value(raw, kind)
    return bool(field_test(node, value, kind, now))


def oracle(
    db: Database, store_id: int, list_id: int, conditions: list[dict[str, Any]], now: datetime
) -> list[set[int]]:
    with db.read() as session:
        contacts = list(
            session.scalars(
                select(Contact).where(
                    Contact.store_id == store_id,
                    Contact.deleted_at.is_(None),
                    Contact.merged_into_id.is_(None),
                )
            )
        )
        events = list(session.scalars(select(Event).where(Event.store_id == store_id)))
        on_list = set(
            session.scalars(
                select(SubscriberListContact.contact_id).where(
                    SubscriberListContact.list_id == list_id
                )
            )
        )
    by_contact: dict[int, list[Event]] = {c.id: [] for c in contacts}
    for event in events:
        if event.contact_id in by_contact:
            by_contact[event.contact_id].append(event)
    results: list[set[int]] = []

    def members(reference: Any) -> set[int]:
        if reference == "list":
            return on_list
        found: set[int] = results[-reference - 1]  # the strategy's -(index + 1)
        return found

    for cond in conditions:
        results.append({c.id for c in contacts if holds(cond, c, by_contact[c.id], now, members)})
    return results


# -- the test ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def incremental(db: Database, segment_ids: list[int]) -> list[set[int]]:
    with db.read() as session:
        rows = session.execute(
            select(SegmentMembership.segment_id, SegmentMembership.contact_id).where(
                SegmentMembership.segment_id.in_(segment_ids)
            )
        ).all()
    found: dict[int, set[int]] = {s: set() for s in segment_ids}
    for segment_id, contact_id in rows:
        found[segment_id].add(contact_id)
    return [found[s] for s in segment_ids]


def settle(db: Database, clock: Clock) -> None:
    """Drain both queues and sweep due checks at the clock until nothing is left."""
    segments = tasks.Segments(clock)
    on_event = Handler(
        segments.process_event, segments.wants_event, plan=segments.plan, apply=segments.apply
    )
    on_message = Handler(
        segments.consume_message,
        segments.wants_message,
        plan=segments.plan,
        apply=segments.apply,
        per_row=True,
    )
    for _ in range(100):
        done = process_events(db, [on_event], 1000, clock=clock)
        done += process_outbox(db, [on_message], 1000, clock=clock)
        done += tasks.sweep(db, clock.now)
        if done == 0:
            return
    raise AssertionError("the queues did not settle")


def apply(
    runtime: Runtime, db: Database, store_id: int, list_id: int, step: Any, clock: Clock
) -> None:
    if isinstance(step, Listed):
        with db.transaction() as session:
            body = ContactCreate(email=EMAILS[step.who])
            if step.subscribed is not None:
                body = ContactCreate(email=EMAILS[step.who], subscribed=step.subscribed)
            contact, _ = contacts.save_contact(session, store_id, body)
            held = session.get(SubscriberListContact, (list_id, contact.id)) is not None
            if step.on_list and not held:
                lists.add_contacts(
                    session, store_id, list_id, SubscriberListContacts(contactIds=[contact.id])
                )
            elif step.on_list is False and held:
                lists.remove_contact(session, store_id, list_id, contact.id)
    elif isinstance(step, Advance):
        clock.now += timedelta(minutes=step.minutes)
    elif isinstance(step, Track):
        properties: dict[str, Any] = {}
        if step.total is not None:
            properties["total"] = step.total
        if step.tier is not None:
            properties["tier"] = step.tier
        name, category, action = (
            (step.target, None, None)
            if isinstance(step.target, str)
            else (f"{step.target[0]} {step.target[1]}", *step.target)
        )
        track(
            runtime,
            store_id,
            EMAILS[step.who],
            name,
            at=clock.now - timedelta(minutes=step.ago_minutes),
            properties=properties,
            value=None if step.value is None else float(step.value),
            category=category,
            action=action,
        )
    else:
        fields = {"country_code": step.country} if step.country else {}
        custom: dict[str, Any] = {}
        if step.score is not None:
            custom["Score"] = step.score
        if step.birthday_hours is not None:
            custom["Birthday"] = iso(clock.now + timedelta(hours=step.birthday_hours))
        track(runtime, store_id, EMAILS[step.who], "Profile", fields=fields, custom=custom)


def resolve(condition: Any, ids: list[int], list_id: int) -> Any:
    """The strategy names earlier segments by -(index + 1) and the store's list by "L";
    the API needs their ids."""
    if isinstance(condition, dict):
        if "segment" in condition:
            return {"segment": ids[-condition["segment"] - 1]}
        if "list" in condition:
            return {"list": list_id}
        return {k: resolve(v, ids, list_id) for k, v in condition.items()}
    if isinstance(condition, list):
        return [resolve(v, ids, list_id) for v in condition]
    return condition


def create(
    db: Database, store_id: int, list_id: int, conditions: list[Any], clock: Clock
) -> list[int]:
    ids: list[int] = []
    for n, cond in enumerate(conditions):
        body = {"name": f"s{n}", "condition": resolve(cond, ids, list_id)}
        data = parse_body(body, creating=True)
        with db.transaction() as session:
            ids.append(service.create_segment(session, store_id, data, clock.now).id)
    return ids


def new_list(db: Database, store_id: int) -> int:
    with db.transaction() as session:
        return lists.create_list(session, store_id, SubscriberListCreate(name="L")).id


def run(db: Database, runtime: Runtime, conditions: Any, before: Any, after: Any) -> None:
    store = make_store(db, "equivalence")
    list_id = new_list(db, store.store_id)
    clock = Clock()
    for step in before:
        apply(runtime, db, store.store_id, list_id, step, clock)
    settle(db, clock)
    ids = create(db, store.store_id, list_id, conditions, clock)
    first = oracle(db, store.store_id, list_id, conditions, clock.now)
    assert incremental(db, ids) == first, conditions
    check_previews(db, store.store_id, list_id, conditions, ids, clock, first)
    for n, step in enumerate(after):
        apply(runtime, db, store.store_id, list_id, step, clock)
        settle(db, clock)
        expected = oracle(db, store.store_id, list_id, conditions, clock.now)
        assert incremental(db, ids) == expected, (conditions, n, step, clock.now)
        check_previews(db, store.store_id, list_id, conditions, ids, clock, expected)
        assert recorded_sizes(db, ids) == [len(members) for members in expected]


def recorded_sizes(db: Database, segment_ids: list[int]) -> list[int]:
    """Each segment's size in its history (the last day recorded; the transitions move it)."""
    with db.read() as session:
        return [
            session.scalars(
                select(SegmentDay.size)
                .where(SegmentDay.segment_id == s)
                .order_by(SegmentDay.day.desc())
                .limit(1)
            ).first()
            or 0
            for s in segment_ids
        ]


def check_previews(
    db: Database,
    store_id: int,
    list_id: int,
    conditions: list[Any],
    ids: list[int],
    clock: Clock,
    expected: list[set[int]],
) -> None:
    """A preview of each definition (the set-based evaluation a build uses, where a
    re-check uses the per-contact one) counts the oracle's members and samples only them."""
    with db.read() as session:
        for n, condition in enumerate(conditions):
            body = {"name": "p", "condition": resolve(condition, ids[:n], list_id)}
            node = parse_body(body, creating=True).node
            assert node is not None
            answer = service.preview(session, store_id, node, clock.now)
            sample = {c.contactId for c in answer.sample}
            assert answer.count == len(expected[n]), (condition, clock.now)
            assert sample <= expected[n] and len(sample) == min(answer.count, service.SAMPLE)


# A hundred random histories take about 25 s on an idle 2-core machine; the suite's
# 120 s per test is too tight when the machine is shared (a timeout mid-example then shows
# as hypothesis's "flaky" failure, not as slowness).
@pytest.mark.timeout(600)
def test_incremental_membership_equals_a_from_scratch_evaluation(
    db: Database, runtime: Runtime
) -> None:
    examples = 100 if engine_name(db) == "sqlite" else 30
    # More for a change to the incremental path: CARTWHEEL_EQUIVALENCE_EXAMPLES=1000.
    examples = int(os.environ.get("CARTWHEEL_EQUIVALENCE_EXAMPLES", examples))

    @given(conditions=definitions(), before=steps, after=steps)
    @settings(
        max_examples=examples,
        deadline=None,
        # No "explain" phase: its line tracing makes every example many times slower.
        phases=[Phase.generate, Phase.shrink],
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(conditions: Any, before: Any, after: Any) -> None:
        run(db, runtime, conditions, before, after)

    check()


@pytest.mark.parametrize("hours_ago", [1, 30])
def test_has_not_done_includes_contacts_younger_than_the_window(
    db: Database, runtime: Runtime, hours_ago: int
) -> None:
    """ "Has not done A in the last 24 hours" holds for a contact created an hour ago."""
    store = make_store(db, "younger")
    list_id = new_list(db, store.store_id)
    clock = Clock()
    apply(runtime, db, store.store_id, list_id, Track(0, "B", 0, None, None, None), clock)
    settle(db, clock)
    condition = {"not": {"event": "A", "within": {"hours": 24}}}
    (segment,) = create(db, store.store_id, list_id, [condition], clock)
    older = Track(1, "A", 60 * hours_ago, None, None, None)
    apply(runtime, db, store.store_id, list_id, older, clock)
    settle(db, clock)
    (members,) = incremental(db, [segment])
    assert len(members) == (1 if hours_ago == 1 else 2)
