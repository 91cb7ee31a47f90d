"""A flow's definition: the JSON of the public contract parsed into typed parts, with every
mistake reported at its JSON path (``steps.check.onTimeout``) and why.

Conditions (the entry ``filter``, ``branch``'s ``if``, a trigger's ``where``) are segment
conditions, parsed by :mod:`cartwheel.segments.definition` at their own path, so they mean
exactly what they mean in a segment. References to other rows (templates, webhooks, lists,
segments) are checked against the store by :mod:`cartwheel.flows.validation`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cartwheel.kit.ids import MAX_ID
from cartwheel.segments.definition import (
    CUSTOM_PREFIX,
    DefinitionError,
    Node,
    parse,
)

#: Most steps a flow may have, and how long a step id may be.
MAX_STEPS = 100
MAX_STEP_ID = 100
MAX_EXITS = 20
MAX_TRIGGERS = 20
MAX_KEY = 300
#: The longest wait or timeout: a year.
MAX_WAIT_SECONDS = 366 * 86400
UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
STEP_TYPES = (
    "wait",
    "wait_for_event",
    "branch",
    "send_email",
    "send_sms",
    "send_webhook",
    "update_profile",
    "add_to_list",
    "remove_from_list",
    "exit",
)
#: Steps that stop the run until a later moment: a loop must pass through one.
WAITING_TYPES = ("wait", "wait_for_event")
SEND_TYPES = ("send_email", "send_sms")
#: Profile fields ``update_profile`` may set, by API name → (column, type).
SETTABLE: dict[str, tuple[str, str]] = {
    "firstName": ("first_name", "string"),
    "lastName": ("last_name", "string"),
    "name": ("name", "string"),
    "companyName": ("company_name", "string"),
    "note": ("note", "string"),
    "city": ("city", "string"),
    "country": ("country", "string"),
    "subscribed": ("subscribed", "boolean"),
}
#: Record topics a trigger may name: an order made through the store data API.
RECORD_TOPICS = ("order_created",)
_STEP_ID = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_PATH = re.compile(r"^(entity|properties|record|event)\.[^\x00]{1,200}$|^[^.\x00$][^\x00]{0,199}$")


# -- parts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventMatch:
    """Which events: by name, or by lifecycle kind (``action`` None: any action)."""

    name: str | None = None
    category: str | None = None
    action: str | None = None

    def matches(self, name: str, category: str | None, action: str | None) -> bool:
        if self.name is not None:
            return name == self.name
        return category == self.category and (self.action is None or action == self.action)

    def as_json(self) -> Any:
        if self.name is not None:
            return self.name
        return {"category": self.category, **({"action": self.action} if self.action else {})}


@dataclass(frozen=True, slots=True)
class Trigger:
    """One way a run starts: an event, a record made through the API, a segment entry or
    exit, or a date on the profile."""

    kind: str  # "event" | "record" | "segment_entered" | "segment_exited" | "date"
    path: str
    event: EventMatch | None = None
    where: Node | None = None
    #: Where the run's key is read: "entity.id", "properties.cartId", "record.id"…
    key: str | None = None
    topic: str | None = None
    segment_id: int | None = None
    #: A date trigger's profile field ("customFields.Birthday"), and whether it recurs.
    date_field: str | None = None
    yearly: bool = True


@dataclass(frozen=True, slots=True)
class Entry:
    filter: Node | None = None
    #: "never" | "always" | "after" (with ``cooldown``), counted per key.
    reentry: str = "always"
    cooldown: timedelta | None = None
    #: "one_active": one active run per key (per contact without a key); "many".
    per_key: str = "one_active"
    #: What the cool-down counts over: "key" (the same cart) or "contact" (any run of the
    #: contact in this flow, whatever its key: "not in this flow in the last 30 days").
    reentry_per: str = "key"


@dataclass(frozen=True, slots=True)
class EventWait:
    """An event that ends a run (``exitOn``) or that a ``wait_for_event`` step waits for."""

    path: str
    event: EventMatch
    #: "trigger": counted from the trigger's event time; "step" (waits) or "start" (exits):
    #: from when the run reached the step or started.
    since: str
    where: Node | None = None
    #: property (or entity./record. path) → "$trigger.key", "$trigger.<path>" or a literal.
    match: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    type: str
    path: str
    next: str | None = None
    #: wait: a duration, or a time of day (with a fallback zone) in the contact's zone.
    duration: timedelta | None = None
    at: time | None = None
    zone: str = "UTC"
    #: wait_for_event
    wait: EventWait | None = None
    timeout: timedelta | None = None
    on_event: str | None = None
    on_timeout: str | None = None
    #: branch
    condition: Node | None = None
    then: str | None = None
    otherwise: str | None = None
    #: send_email / send_sms
    template: int | None = None
    #: send_webhook: the subscription's public id
    webhook: str | None = None
    #: update_profile: API field → value
    set: tuple[tuple[str, Any], ...] = ()
    #: add_to_list / remove_from_list
    list_id: int | None = None

    def exits(self) -> list[tuple[str, str]]:
        """(field, target) of every way out of this step."""
        pairs = [
            ("next", self.next),
            ("onEvent", self.on_event),
            ("onTimeout", self.on_timeout),
            ("then", self.then),
            ("else", self.otherwise),
        ]
        return [(name, target) for name, target in pairs if target is not None]


@dataclass(frozen=True, slots=True)
class Goal:
    event: EventMatch
    within: timedelta


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    triggers: tuple[Trigger, ...]
    entry: Entry
    exit_on: tuple[EventWait, ...]
    start: str
    steps: dict[str, Step]
    goal: Goal | None = None


@dataclass(slots=True)
class Mentions:
    """The events a definition reacts to, so the worker loads no other event."""

    names: set[str] = field(default_factory=set)
    kinds: set[tuple[str, str | None]] = field(default_factory=set)
    records: set[str] = field(default_factory=set)
    segments: set[int] = field(default_factory=set)
    dates: bool = False

    def add(self, match: EventMatch) -> None:
        if match.name is not None:
            self.names.add(match.name)
        elif match.category is not None:
            self.kinds.add((match.category, match.action))

    def as_json(self) -> dict[str, Any]:
        return {
            "names": sorted(self.names),
            "kinds": [[c, a] for c, a in sorted(self.kinds, key=lambda k: (k[0], k[1] or ""))],
            "records": sorted(self.records),
            "segments": sorted(self.segments),
            "dates": self.dates,
        }


def mentions(definition: Definition, into: Mentions | None = None) -> Mentions:
    found = into if into is not None else Mentions()
    for trigger in definition.triggers:
        if trigger.event is not None:
            found.add(trigger.event)
        if trigger.topic is not None:
            found.records.add(trigger.topic)
        if trigger.segment_id is not None:
            found.segments.add(trigger.segment_id)
        if trigger.kind == "date":
            found.dates = True
    for wait in definition.exit_on:
        found.add(wait.event)
    for step in definition.steps.values():
        if step.wait is not None:
            found.add(step.wait.event)
    return found


def merge_mentions(stored: dict[str, Any], definition: Definition) -> dict[str, Any]:
    """What a flow reacts to once ``definition`` is published beside its earlier versions
    (runs on those continue, so their events still matter)."""
    found = Mentions(
        set(stored.get("names", ())),
        {(c, a) for c, a in stored.get("kinds", ())},
        set(stored.get("records", ())),
        set(stored.get("segments", ())),
        bool(stored.get("dates", False)),
    )
    return mentions(definition, found).as_json()


# -- parsing -----------------------------------------------------------------------------


class _Parser:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def only(self, data: dict[str, Any], path: str, allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                self.fail(_join(path, key), "Unknown field.")

    def condition(self, data: Any, path: str) -> Node | None:
        try:
            return parse(data, path)
        except DefinitionError as exc:
            for at, messages in exc.errors.items():
                for message in messages:
                    self.fail(at, message)
            return None

    # -- the parts -----------------------------------------------------------------------

    def definition(self, data: Any) -> Definition | None:
        if not isinstance(data, dict):
            self.fail("definition", "The definition must be an object.")
            return None
        self.only(
            data,
            "",
            {"name", "description", "trigger", "entry", "exitOn", "start", "steps", "goal"},
        )
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            self.fail("name", "The name must be a single line of 1 to 200 characters.")
            name = ""
        triggers = self.triggers(data.get("trigger"), "trigger")
        entry = self.entry(data.get("entry"), "entry")
        exits = self.exits(data.get("exitOn"), "exitOn")
        steps = self.steps(data.get("steps"), "steps")
        start = data.get("start")
        if not isinstance(start, str) or not start:
            self.fail("start", "start must name the first step.")
        elif steps is not None and start not in steps:
            self.fail("start", f"Unknown step {start!r}.")
        goal = self.goal(data["goal"], "goal") if "goal" in data else None
        if steps is not None and isinstance(start, str) and start in steps:
            self.graph(steps, start)
        if self.errors or triggers is None or steps is None or entry is None:
            return None
        assert isinstance(start, str)
        return Definition(name, tuple(triggers), entry, tuple(exits), start, steps, goal)

    def triggers(self, data: Any, path: str) -> list[Trigger] | None:
        if not isinstance(data, dict):
            self.fail(path, "The trigger is required: an event, a record, a segment or a date.")
            return None
        if "any" in data:
            self.only(data, path, {"any"})
            items = data["any"]
            if not isinstance(items, list) or not items or len(items) > MAX_TRIGGERS:
                self.fail(f"{path}.any", f"any takes a list of 1 to {MAX_TRIGGERS} triggers.")
                return None
            found = [self.trigger(item, f"{path}.any[{i}]") for i, item in enumerate(items)]
            return [t for t in found if t is not None] if all(found) else None
        one = self.trigger(data, path)
        return [one] if one is not None else None

    def trigger(self, data: Any, path: str) -> Trigger | None:
        if not isinstance(data, dict):
            self.fail(path, "A trigger must be an object.")
            return None
        kinds = [
            k for k in ("event", "record", "segment_entered", "segment_exited", "date") if k in data
        ]
        if len(kinds) != 1:
            self.fail(
                path,
                "A trigger must have exactly one of event, record, segment_entered, "
                "segment_exited or date.",
            )
            return None
        kind = kinds[0]
        if kind == "event":
            self.only(data, path, {"event", "where", "key"})
            match = self.event(data["event"], f"{path}.event")
            where = self.where(data["where"], f"{path}.where") if "where" in data else None
            key = self.key_path(data["key"], f"{path}.key") if "key" in data else None
            if match is None:
                return None
            return Trigger("event", path, event=match, where=where, key=key)
        if kind == "record":
            self.only(data, path, {"record", "key"})
            if data["record"] not in RECORD_TOPICS:
                self.fail(
                    f"{path}.record", f"The record must be one of {', '.join(RECORD_TOPICS)}."
                )
                return None
            key = self.key_path(data["key"], f"{path}.key") if "key" in data else "record.id"
            return Trigger("record", path, topic=data["record"], key=key)
        if kind == "date":
            self.only(data, path, {"date", "yearly"})
            field_name = data["date"]
            if (
                not isinstance(field_name, str)
                or not field_name.startswith(CUSTOM_PREFIX)
                or len(field_name) <= len(CUSTOM_PREFIX)
                or len(field_name) > 300
            ):
                self.fail(f"{path}.date", "The date must be a custom field: customFields.<name>.")
                return None
            yearly = data.get("yearly", True)
            if not isinstance(yearly, bool):
                self.fail(f"{path}.yearly", "yearly must be true or false.")
                return None
            return Trigger("date", path, date_field=field_name, yearly=yearly)
        self.only(data, path, {kind})
        ident = data[kind]
        if not _is_id(ident):
            self.fail(f"{path}.{kind}", "The segment must be an id (a positive integer).")
            return None
        return Trigger(kind, path, segment_id=ident)

    def event(self, data: Any, path: str) -> EventMatch | None:
        if isinstance(data, str) and data.strip() and len(data) <= 300 and "\x00" not in data:
            return EventMatch(name=data)
        if isinstance(data, dict):
            self.only(data, path, {"category", "action"})
            category, action = data.get("category"), data.get("action")
            ok = True
            if not _is_text(category, 50):
                self.fail(f"{path}.category", "The category must be a non-empty string.")
                ok = False
            if action is not None and not _is_text(action, 50):
                self.fail(f"{path}.action", "The action must be a non-empty string.")
                ok = False
            return EventMatch(category=category, action=action) if ok else None
        self.fail(path, "The event must be a name or an object with a category (and an action).")
        return None

    def where(self, data: Any, path: str) -> Node | None:
        """Conditions on the event's properties, as a segment's ``where``."""
        try:
            node = parse({"event": "x", "where": data}, "$")
        except DefinitionError as exc:
            for at, messages in exc.errors.items():
                at = path + at[len("$.where") :] if at.startswith("$.where") else path
                for message in messages:
                    self.fail(at, message)
            return None
        where: Node | None = getattr(node, "where", None)
        return where

    def key_path(self, data: Any, path: str) -> str | None:
        if not isinstance(data, str) or not _PATH.match(data) or len(data) > MAX_KEY:
            self.fail(
                path,
                "The key must be a path into the event: entity.<field>, properties.<name> "
                "(or just <name>), event.<field>, record.<field>.",
            )
            return None
        return data

    def entry(self, data: Any, path: str) -> Entry | None:
        if data is None:
            return Entry()
        if not isinstance(data, dict):
            self.fail(path, "entry must be an object.")
            return None
        self.only(data, path, {"filter", "reentry", "perKey"})
        node = self.condition(data["filter"], f"{path}.filter") if "filter" in data else None
        reentry, cooldown, per = "always", None, "key"
        raw = data.get("reentry", "always")
        if raw in ("never", "always"):
            reentry = raw
        elif isinstance(raw, dict) and "after" in raw and set(raw) <= {"after", "per"}:
            cooldown = self.duration(raw["after"], f"{path}.reentry.after")
            reentry = "after"
            per = raw.get("per", "key")
            if per not in ("key", "contact"):
                self.fail(f"{path}.reentry.per", 'per must be "key" or "contact".')
        else:
            self.fail(
                f"{path}.reentry",
                'reentry must be "never", "always" or {"after": {…}, "per": "key"|"contact"}.',
            )
        per_key = data.get("perKey", "one_active")
        if per_key not in ("one_active", "many"):
            self.fail(f"{path}.perKey", 'perKey must be "one_active" or "many".')
        return Entry(
            node,
            reentry,
            cooldown,
            per_key if per_key == "many" else "one_active",
            "contact" if per == "contact" else "key",
        )

    def exits(self, data: Any, path: str) -> list[EventWait]:
        if data is None:
            return []
        if not isinstance(data, list) or len(data) > MAX_EXITS:
            self.fail(path, f"exitOn must be a list of up to {MAX_EXITS} events.")
            return []
        found = [
            self.event_wait(item, f"{path}[{i}]", ("trigger", "start"), "start")
            for i, item in enumerate(data)
        ]
        return [f for f in found if f is not None]

    def event_wait(
        self, data: Any, path: str, sinces: tuple[str, ...], default: str
    ) -> EventWait | None:
        if not isinstance(data, dict) or "event" not in data:
            self.fail(path, "An event to wait for must be an object with an event.")
            return None
        self.only(data, path, {"event", "since", "where", "match"})
        match = self.event(data["event"], f"{path}.event")
        since = data.get("since", default)
        if since not in sinces:
            self.fail(f"{path}.since", f"since must be one of {', '.join(sinces)}.")
        where = self.where(data["where"], f"{path}.where") if "where" in data else None
        pairs: list[tuple[str, Any]] = []
        if "match" in data:
            raw = data["match"]
            if not isinstance(raw, dict) or not raw or len(raw) > 10:
                self.fail(f"{path}.match", "match maps 1 to 10 property paths to values.")
            else:
                for prop, expected in raw.items():
                    at = f"{path}.match.{prop}"
                    if self.key_path(prop, at) is None:
                        continue
                    if isinstance(expected, str) and expected.startswith("$"):
                        if expected != "$trigger.key" and not (
                            expected.startswith("$trigger.")
                            and _PATH.match(expected[len("$trigger.") :])
                        ):
                            self.fail(
                                at, 'A reference must be "$trigger.key" or "$trigger.<path>".'
                            )
                            continue
                    elif not isinstance(expected, str | int | float | bool):
                        self.fail(at, "The value must be a string, a number or a boolean.")
                        continue
                    pairs.append((prop, expected))
        if match is None:
            return None
        return EventWait(path, match, since if since in sinces else default, where, tuple(pairs))

    def duration(self, data: Any, path: str) -> timedelta | None:
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in UNITS:
            self.fail(path, "A duration is {seconds|minutes|hours|days: n}.")
            return None
        ((unit, n),) = data.items()
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            self.fail(f"{path}.{unit}", "The duration must be a whole number, 0 or more.")
            return None
        if n * UNITS[unit] > MAX_WAIT_SECONDS:
            self.fail(f"{path}.{unit}", "A duration may not exceed 366 days.")
            return None
        return timedelta(seconds=n * UNITS[unit])

    def goal(self, data: Any, path: str) -> Goal | None:
        if not isinstance(data, dict) or "event" not in data:
            self.fail(path, 'goal is {"event": …, "within": {"days": n}}.')
            return None
        self.only(data, path, {"event", "within"})
        match = self.event(data["event"], f"{path}.event")
        within = self.duration(data.get("within", {"days": 7}), f"{path}.within")
        if match is None or within is None:
            return None
        return Goal(match, within)

    # -- steps ---------------------------------------------------------------------------

    def steps(self, data: Any, path: str) -> dict[str, Step] | None:
        if not isinstance(data, dict) or not data:
            self.fail(path, "steps must be an object of named steps.")
            return None
        if len(data) > MAX_STEPS:
            self.fail(path, f"A flow may have at most {MAX_STEPS} steps.")
            return None
        found: dict[str, Step] = {}
        for step_id, raw in data.items():
            at = f"{path}.{step_id}"
            if not isinstance(step_id, str) or not _STEP_ID.match(step_id):
                self.fail(at, "A step id is 1 to 100 letters, digits, '_' or '-'.")
                continue
            step = self.step(step_id, raw, at)
            if step is not None:
                found[step_id] = step
        for step in found.values():
            for name, target in step.exits():
                if target not in data:
                    self.fail(_join(step.path, name), f"Unknown step {target!r}.")
        return found

    def step(self, step_id: str, data: Any, path: str) -> Step | None:
        if not isinstance(data, dict):
            self.fail(path, "A step must be an object.")
            return None
        kind = data.get("type")
        if kind not in STEP_TYPES:
            self.fail(f"{path}.type", f"The type must be one of {', '.join(STEP_TYPES)}.")
            return None
        before = len(self.errors)
        has_next = kind not in ("exit", "wait_for_event", "branch")
        nxt = self.target(data, path, "next", required=True) if has_next else None
        step: Step | None = None
        if kind == "wait":
            self.only(data, path, {"type", "for", "until", "next"})
            if ("for" in data) == ("until" in data):
                self.fail(path, "A wait has either for (a duration) or until (a time of day).")
            elif "for" in data:
                duration = self.duration(data["for"], f"{path}.for")
                step = Step(step_id, kind, path, nxt, duration=duration)
            else:
                at, zone = self.time_of_day(data["until"], f"{path}.until")
                step = Step(step_id, kind, path, nxt, at=at, zone=zone)
        elif kind == "wait_for_event":
            self.only(
                data,
                path,
                {"type", "event", "since", "where", "match", "timeout", "onEvent", "onTimeout"},
            )
            wait = self.event_wait(
                {k: data[k] for k in ("event", "since", "where", "match") if k in data},
                path,
                ("trigger", "step"),
                "step",
            )
            timeout = self.duration(data.get("timeout"), f"{path}.timeout")
            on_event = self.target(data, path, "onEvent", required=True)
            on_timeout = self.target(data, path, "onTimeout", required=True)
            step = Step(
                step_id,
                kind,
                path,
                wait=wait,
                timeout=timeout,
                on_event=on_event,
                on_timeout=on_timeout,
            )
        elif kind == "branch":
            self.only(data, path, {"type", "if", "then", "else"})
            node = self.condition(data.get("if"), f"{path}.if")
            then = self.target(data, path, "then", required=True)
            otherwise = self.target(data, path, "else", required=True)
            step = Step(step_id, kind, path, condition=node, then=then, otherwise=otherwise)
        elif kind in SEND_TYPES:
            self.only(data, path, {"type", "template", "next"})
            template = data.get("template")
            if not _is_id(template):
                self.fail(f"{path}.template", "The template must be an id (a positive integer).")
            step = Step(step_id, kind, path, nxt, template=template)
        elif kind == "send_webhook":
            self.only(data, path, {"type", "webhook", "next"})
            webhook = data.get("webhook")
            if not _is_text(webhook, 32):
                self.fail(f"{path}.webhook", "The webhook must be a webhook's id (rh_…).")
            step = Step(step_id, kind, path, nxt, webhook=webhook)
        elif kind == "update_profile":
            self.only(data, path, {"type", "set", "next"})
            pairs = self.settings(data.get("set"), f"{path}.set")
            step = Step(step_id, kind, path, nxt, set=tuple(pairs))
        elif kind in ("add_to_list", "remove_from_list"):
            self.only(data, path, {"type", "list", "next"})
            list_id = data.get("list")
            if not _is_id(list_id):
                self.fail(f"{path}.list", "The list must be an id (a positive integer).")
            step = Step(step_id, kind, path, nxt, list_id=list_id)
        else:
            self.only(data, path, {"type"})
            step = Step(step_id, kind, path)
        return step if len(self.errors) == before else None

    def target(self, data: dict[str, Any], path: str, name: str, *, required: bool) -> str | None:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(_join(path, name), f"{name} must name a step.")
            return None
        if not isinstance(value, str) or not _STEP_ID.match(value):
            self.fail(_join(path, name), f"{name} must name a step.")
            return None
        return value

    def time_of_day(self, data: Any, path: str) -> tuple[time | None, str]:
        if not isinstance(data, dict) or "time" not in data:
            self.fail(path, 'until is {"time": "HH:MM"} (optionally with a fallback timezone).')
            return None, "UTC"
        self.only(data, path, {"time", "timezone"})
        raw = data["time"]
        match = _TIME.match(raw) if isinstance(raw, str) else None
        if match is None:
            self.fail(f"{path}.time", "The time must be HH:MM (24-hour).")
            return None, "UTC"
        zone = data.get("timezone", "UTC")
        if not valid_zone(zone):
            self.fail(f"{path}.timezone", "Unknown time zone (use an IANA name).")
            zone = "UTC"
        return time(int(match.group(1)), int(match.group(2))), zone

    def settings(self, data: Any, path: str) -> list[tuple[str, Any]]:
        if not isinstance(data, dict) or not data or len(data) > 50:
            self.fail(path, "set maps 1 to 50 profile fields to their new values.")
            return []
        pairs: list[tuple[str, Any]] = []
        for name, value in data.items():
            at = f"{path}.{name}"
            if isinstance(name, str) and name.startswith(CUSTOM_PREFIX):
                if len(name) <= len(CUSTOM_PREFIX) or len(name) > 300 or "\x00" in name:
                    self.fail(at, "A custom field is customFields.<name>.")
                    continue
                if not (value is None or isinstance(value, str | int | float | bool)):
                    self.fail(at, "The value must be a string, a number, a boolean or null.")
                    continue
                if isinstance(value, str) and (len(value) > 10_000 or "\x00" in value):
                    self.fail(at, "The value must be text of at most 10000 characters.")
                    continue
            elif name in SETTABLE:
                kind = SETTABLE[name][1]
                ok = isinstance(value, bool) if kind == "boolean" else _is_text(value, 200, True)
                if not ok:
                    self.fail(at, f"The value must be a {kind}.")
                    continue
            else:
                self.fail(
                    at, f"Unknown field: use one of {', '.join(SETTABLE)} or customFields.<name>."
                )
                continue
            pairs.append((name, value))
        return pairs

    def graph(self, steps: dict[str, Step], start: str) -> None:
        """Every step reachable from ``start``; no loop that passes no wait."""
        seen: set[str] = set()
        todo = [start]
        while todo:
            current = todo.pop()
            if current in seen or current not in steps:
                continue
            seen.add(current)
            todo.extend(target for _, target in steps[current].exits())
        for step_id, step in steps.items():
            if step_id not in seen:
                self.fail(step.path, "No step leads here: the step is never reached.")
        # A cycle among the steps that do not wait would run forever in one transaction.
        instant = {
            i: [t for _, t in s.exits() if t in steps and steps[t].type not in WAITING_TYPES]
            for i, s in steps.items()
            if s.type not in WAITING_TYPES
        }
        state: dict[str, int] = {}
        reported: set[str] = set()

        def visit(node: str, trail: list[str]) -> None:
            state[node] = 1
            trail.append(node)
            for nxt in instant.get(node, []):
                if state.get(nxt) == 1:
                    loop = trail[trail.index(nxt) :]
                    if nxt not in reported:
                        reported.add(nxt)
                        self.fail(
                            steps[nxt].path,
                            "A loop without a wait: " + " → ".join([*loop, nxt]) + ".",
                        )
                elif nxt not in state:
                    visit(nxt, trail)
            trail.pop()
            state[node] = 2

        for node in sorted(instant):
            if node not in state:
                visit(node, [])


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def valid_zone(name: Any) -> bool:
    if not isinstance(name, str) or not name or len(name) > 64 or "\x00" in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _is_text(value: Any, max_length: int, empty: bool = False) -> bool:
    return (
        isinstance(value, str)
        and (empty or bool(value.strip()))
        and len(value) <= max_length
        and "\x00" not in value
    )


def parse_definition(data: Any) -> Definition:
    """The typed definition, or :class:`DefinitionError` naming every problem's path."""
    parser = _Parser()
    found = parser.definition(data)
    if parser.errors or found is None:
        raise DefinitionError(parser.errors or {"definition": ["The definition is not valid."]})
    return found
