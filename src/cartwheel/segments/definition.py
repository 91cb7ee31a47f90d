"""A segment's condition: the JSON of the public contract parsed into typed nodes, with every
mistake reported at its JSON path (``condition.all[2].op``) and why.

The nodes are plain data: :mod:`cartwheel.segments.compiler` turns them into SQL, and the
tests' oracle evaluates them in Python."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cartwheel.ingest.properties import parse_iso_datetime
from cartwheel.kit.ids import MAX_ID

#: How deep groups may nest, and how many nodes a condition may hold.
MAX_DEPTH = 8
MAX_NODES = 100
MAX_IN_VALUES = 500
MAX_TEXT = 500

STRING_OPS = ("eq", "neq", "in", "not_in", "contains", "starts_with", "exists", "not_exists")
NUMBER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "between", "exists", "not_exists")
BOOLEAN_OPS = ("eq", "exists", "not_exists")
DATE_OPS = (
    "before",
    "after",
    "between",
    "within_last",
    "more_than_ago",
    "within_next",
    "exists",
    "not_exists",
)
COUNT_OPS = ("eq", "gte", "lte", "gt", "lt")
TYPES = ("string", "number", "boolean", "date")
OPS_BY_TYPE = {
    "string": STRING_OPS,
    "number": NUMBER_OPS,
    "boolean": BOOLEAN_OPS,
    "date": DATE_OPS,
    # exists/not_exists on a field of no declared type: any non-null value.
    "any": ("exists", "not_exists"),
}
#: Date operators measured from now.
RELATIVE_DATE_OPS = ("within_last", "more_than_ago", "within_next")

#: Contact fields by API name: (column, type).
PROFILE_FIELDS: dict[str, tuple[str, str]] = {
    "email": ("email", "string"),
    "phone": ("phone", "string"),
    "name": ("name", "string"),
    "firstName": ("first_name", "string"),
    "lastName": ("last_name", "string"),
    "companyName": ("company_name", "string"),
    "note": ("note", "string"),
    "address": ("address1", "string"),
    "address2": ("address2", "string"),
    "city": ("city", "string"),
    "state": ("state", "string"),
    "stateCode": ("state_code", "string"),
    "zip": ("zip", "string"),
    "country": ("country", "string"),
    "countryCode": ("country_code", "string"),
    "timezone": ("timezone", "string"),
    "source": ("source", "string"),
    "latitude": ("latitude", "number"),
    "longitude": ("longitude", "number"),
    "subscribed": ("subscribed", "boolean"),
    "createdAt": ("created_at", "date"),
}
CUSTOM_PREFIX = "customFields."


class DefinitionError(Exception):
    """A wrong definition: ``errors`` maps JSON paths to what is wrong there."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(next(iter(errors.values()))[0])
        self.errors = errors


# -- nodes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """``within``: the last ``seconds`` before now, or between fixed moments."""

    seconds: int | None = None
    after: datetime | None = None
    before: datetime | None = None

    def bounds(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The (exclusive lower, inclusive upper) ``occurred_at`` bounds at ``now``."""
        if self.seconds is not None:
            return now - timedelta(seconds=self.seconds), None
        return self.after, self.before


@dataclass(frozen=True, slots=True)
class Compare:
    """A typed comparison: ``op`` on a value of ``type`` (the value already parsed: numbers
    as floats, dates as datetimes, relative dates as a timedelta, lists for in/between)."""

    type: str
    op: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class Group:
    kind: str  # "all" | "any" | "not"
    children: tuple[Node, ...]
    path: str = ""


@dataclass(frozen=True, slots=True)
class PropertyCondition:
    """A ``where`` leaf on an event's typed property."""

    path: str
    property: str
    compare: Compare


@dataclass(frozen=True, slots=True)
class EventCondition:
    path: str
    name: str | None = None
    category: str | None = None
    action: str | None = None
    count_op: str = "gte"
    count: int = 1
    #: ``sum``: "value" (the event's value) or a numeric property's name; then
    #: ``sum_op``/``sum_value`` replace the count.
    sum: str | None = None
    sum_op: str = "gte"
    sum_value: float = 0.0
    within: Window | None = None
    where: Node | None = None


@dataclass(frozen=True, slots=True)
class ProfileCondition:
    path: str
    field: str  # the API name, e.g. "countryCode" or "customFields.Loyalty Tier"
    column: str | None  # the contacts column, None for a custom field
    custom: str | None  # the custom field's key
    compare: Compare


@dataclass(frozen=True, slots=True)
class ListCondition:
    path: str
    list_id: int


@dataclass(frozen=True, slots=True)
class SegmentCondition:
    path: str
    segment_id: int


@dataclass(frozen=True, slots=True)
class ConsentCondition:
    path: str
    channel: str
    subscribed: bool


Node = (
    Group
    | EventCondition
    | ProfileCondition
    | ListCondition
    | SegmentCondition
    | ConsentCondition
    | PropertyCondition
)


@dataclass(slots=True)
class Mentions:
    """What a condition reads: the worker evaluates a segment only when one of these changes."""

    names: set[str] = field(default_factory=set)
    #: Lifecycle kinds: (category, action or None for any action).
    kinds: set[tuple[str, str | None]] = field(default_factory=set)
    profile: bool = False
    lists: set[int] = field(default_factory=set)
    segments: set[int] = field(default_factory=set)
    #: The answer can change with time alone (a relative window or date).
    timed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "names": sorted(self.names),
            "kinds": [[c, a] for c, a in sorted(self.kinds, key=lambda k: (k[0], k[1] or ""))],
            "profile": self.profile,
            "lists": sorted(self.lists),
            "segments": sorted(self.segments),
            "timed": self.timed,
        }


def mentions(node: Node, into: Mentions | None = None) -> Mentions:
    found = into if into is not None else Mentions()
    if isinstance(node, Group):
        for child in node.children:
            mentions(child, found)
    elif isinstance(node, EventCondition):
        if node.name is not None:
            found.names.add(node.name)
        elif node.category is not None:
            found.kinds.add((node.category, node.action))
        if node.within is not None and node.within.seconds is not None:
            found.timed = True
        if node.where is not None:
            mentions(node.where, found)
    elif isinstance(node, PropertyCondition):
        if node.compare.op in RELATIVE_DATE_OPS:
            found.timed = True
    elif isinstance(node, ProfileCondition):
        found.profile = True
        if node.compare.op in RELATIVE_DATE_OPS:
            found.timed = True
    elif isinstance(node, ConsentCondition):
        found.profile = True
    elif isinstance(node, ListCondition):
        found.lists.add(node.list_id)
    elif isinstance(node, SegmentCondition):
        found.segments.add(node.segment_id)
    return found


def walk(node: Node) -> list[Node]:
    """Every node, depth first (the order ``explain`` lists them in)."""
    out: list[Node] = [node]
    if isinstance(node, Group):
        for child in node.children:
            out.extend(walk(child))
    elif isinstance(node, EventCondition) and node.where is not None:
        out.extend(walk(node.where))
    return out


def node_path(node: Node) -> str:
    return getattr(node, "path", "")


# -- parsing -----------------------------------------------------------------------------


class _Parser:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.nodes = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def condition(self, data: Any, path: str, depth: int = 0) -> Node | None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.fail(path, f"A condition may hold at most {MAX_NODES} nodes.")
            return None
        if depth > MAX_DEPTH:
            self.fail(path, f"Groups may nest at most {MAX_DEPTH} deep.")
            return None
        if not isinstance(data, dict):
            self.fail(path, "A condition must be an object.")
            return None
        kinds = [
            k
            for k in ("all", "any", "not", "event", "profile", "list", "segment", "consent")
            if k in data
        ]
        if len(kinds) != 1:
            self.fail(
                path,
                "A condition must have exactly one of all, any, not, event, profile, list, "
                "segment or consent.",
            )
            return None
        kind = kinds[0]
        if kind in ("all", "any"):
            self._only(data, path, {kind})
            return self.group(kind, data[kind], path, depth, self.condition)
        if kind == "not":
            self._only(data, path, {"not"})
            child = self.condition(data["not"], f"{path}.not", depth + 1)
            return Group("not", (child,), path) if child is not None else None
        if kind == "event":
            return self.event(data, path, depth)
        if kind == "profile":
            return self.profile(data, path)
        if kind == "consent":
            return self.consent(data, path)
        self._only(data, path, {kind})
        ident = data[kind]
        if not _is_id(ident):
            self.fail(f"{path}.{kind}", f"The {kind} must be an id (a positive integer).")
            return None
        return ListCondition(path, ident) if kind == "list" else SegmentCondition(path, ident)

    def group(self, kind: str, items: Any, at: str, depth: int, parse: Any) -> Node | None:
        path = f"{at}.{kind}"
        if not isinstance(items, list):
            self.fail(path, f"{kind} must be a list of conditions.")
            return None
        if not items:
            self.fail(path, "A group may not be empty.")
            return None
        children = [parse(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(items)]
        if any(c is None for c in children):
            return None
        return Group(kind, tuple(children), at)

    def _only(self, data: dict[str, Any], path: str, allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                self.fail(f"{path}.{key}", "Unknown field.")

    def event(self, data: dict[str, Any], path: str, depth: int) -> Node | None:
        self._only(data, path, {"event", "count", "sum", "op", "value", "within", "where"})
        before = len(self.errors)
        target = data["event"]
        name = category = action = None
        if isinstance(target, str) and target.strip() and len(target) <= 300:
            name = target
        elif isinstance(target, dict):
            self._only(target, f"{path}.event", {"category", "action"})
            category, action = target.get("category"), target.get("action")
            if not _is_text(category, 50):
                self.fail(f"{path}.event.category", "The category must be a non-empty string.")
            if action is not None and not _is_text(action, 50):
                self.fail(f"{path}.event.action", "The action must be a non-empty string.")
        else:
            self.fail(
                f"{path}.event",
                "The event must be a name or an object with a category (and an action).",
            )
        count_op, count = "gte", 1
        sum_field: Any = None
        sum_op: Any = "gte"
        sum_value: Any = 0.0
        if "count" in data and "sum" in data:
            self.fail(f"{path}.sum", "Use count or sum, not both.")
        elif "count" in data:
            count_op, count = self.count(data["count"], f"{path}.count")
            for key in ("op", "value"):
                if key in data:
                    self.fail(f"{path}.{key}", "op and value go with sum; count takes {op: n}.")
        elif "sum" in data:
            sum_field = data["sum"]
            if not _is_text(sum_field, 200) or sum_field.startswith("$extra"):
                self.fail(f"{path}.sum", 'sum must be "value" or a numeric property\'s name.')
            sum_op = data.get("op")
            if sum_op not in COUNT_OPS:
                self.fail(f"{path}.op", f"The op must be one of {', '.join(COUNT_OPS)}.")
            sum_value = data.get("value")
            if not _is_number(sum_value):
                self.fail(f"{path}.value", "The value must be a number.")
        else:
            for key in ("op", "value"):
                if key in data:
                    self.fail(f"{path}.{key}", "op and value go with sum.")
        within = self.window(data["within"], f"{path}.within") if "within" in data else None
        where = None
        if "where" in data:
            where = self.where(data["where"], f"{path}.where", depth + 1)
        if len(self.errors) > before:
            return None
        return EventCondition(
            path,
            name,
            category,
            action,
            count_op,
            count,
            sum_field,
            sum_op or "gte",
            float(sum_value or 0),
            within,
            where,
        )

    def count(self, data: Any, path: str) -> tuple[str, int]:
        if not isinstance(data, dict) or len(data) != 1:
            self.fail(path, 'count must be one operator and a number, e.g. {"gte": 2}.')
            return "gte", 1
        ((op, n),) = data.items()
        if op not in COUNT_OPS:
            self.fail(f"{path}.{op}", f"The count operator must be one of {', '.join(COUNT_OPS)}.")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 1_000_000_000:
            self.fail(f"{path}.{op}", "The count must be a whole number from 0 to 1000000000.")
            return "gte", 1
        return op, n

    def window(self, data: Any, path: str) -> Window | None:
        if not isinstance(data, dict) or not data:
            self.fail(path, "within must be {days|hours|minutes: n} or {after|before: ISO date}.")
            return None
        units = {"days": 86400, "hours": 3600, "minutes": 60}
        if set(data) <= set(units) and len(data) == 1:
            ((unit, n),) = data.items()
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 36500 * 1440:
                self.fail(f"{path}.{unit}", "The window must be a positive whole number.")
                return None
            seconds = n * units[unit]
            if seconds > 36500 * 86400:
                self.fail(f"{path}.{unit}", "The window may not exceed 100 years.")
                return None
            return Window(seconds=seconds)
        if set(data) <= {"after", "before"}:
            bounds: dict[str, datetime] = {}
            for key, raw in data.items():
                moment = parse_iso_datetime(raw) if isinstance(raw, str) else None
                if moment is None:
                    self.fail(f"{path}.{key}", "The moment must be an ISO-8601 date or time.")
                    return None
                bounds[key] = moment
            return Window(after=bounds.get("after"), before=bounds.get("before"))
        self.fail(path, "within must be {days|hours|minutes: n} or {after|before: ISO date}.")
        return None

    def where(self, data: Any, path: str, depth: int) -> Node | None:
        if depth > MAX_DEPTH:
            self.fail(path, f"Groups may nest at most {MAX_DEPTH} deep.")
            return None
        self.nodes += 1
        if not isinstance(data, dict):
            self.fail(path, "A property condition must be an object.")
            return None
        for kind in ("all", "any"):
            if kind in data:
                self._only(data, path, {kind})
                return self.group(kind, data[kind], path, depth, self.where)
        if "not" in data:
            self._only(data, path, {"not"})
            child = self.where(data["not"], f"{path}.not", depth + 1)
            return Group("not", (child,), path) if child is not None else None
        if "property" not in data:
            self.fail(path, "A property condition needs property, op and value.")
            return None
        self._only(data, path, {"property", "op", "value", "type"})
        name = data["property"]
        if not _is_text(name, 200):
            self.fail(f"{path}.property", "The property must be a non-empty string.")
            return None
        if name.startswith("$extra") or "." in name:
            self.fail(
                f"{path}.property",
                "Only top-level properties are segmentable ($extra and nested values are not).",
            )
            return None
        compare = self.compare(data, path, None)
        return PropertyCondition(path, name, compare) if compare is not None else None

    def profile(self, data: dict[str, Any], path: str) -> Node | None:
        self._only(data, path, {"profile", "op", "value", "type"})
        name = data["profile"]
        if not _is_text(name, 300):
            self.fail(f"{path}.profile", "The profile field must be a non-empty string.")
            return None
        column = custom = None
        known_type: str | None = None
        if name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX):
            custom = name[len(CUSTOM_PREFIX) :]
        elif name in PROFILE_FIELDS:
            column, known_type = PROFILE_FIELDS[name]
        else:
            self.fail(
                f"{path}.profile",
                f"Unknown profile field {name!r}: use one of {', '.join(PROFILE_FIELDS)} "
                "or customFields.<name>.",
            )
            return None
        compare = self.compare(data, path, known_type)
        if compare is None:
            return None
        return ProfileCondition(path, name, column, custom, compare)

    def consent(self, data: dict[str, Any], path: str) -> Node | None:
        self._only(data, path, {"consent", "status"})
        if data["consent"] != "email":
            self.fail(f"{path}.consent", 'The only consent channel is "email".')
            return None
        status = data.get("status")
        if status not in ("subscribed", "unsubscribed"):
            self.fail(f"{path}.status", 'The status must be "subscribed" or "unsubscribed".')
            return None
        return ConsentCondition(path, "email", status == "subscribed")

    def compare(self, data: dict[str, Any], path: str, known_type: str | None) -> Compare | None:
        """The typed comparison of a property or profile leaf. A field of unknown type (a
        custom field, an event property) takes its type from ``type`` if given, else from
        the operator and the value."""
        op = data.get("op")
        kind = known_type
        if "type" in data:
            if data["type"] not in TYPES:
                self.fail(f"{path}.type", f"The type must be one of {', '.join(TYPES)}.")
                return None
            if known_type is not None and data["type"] != known_type:
                self.fail(f"{path}.type", f"This field is a {known_type}.")
                return None
            kind = data["type"]
        if not isinstance(op, str):
            self.fail(f"{path}.op", "The op must be a string.")
            return None
        if kind is None:
            kind = _infer_type(op, data.get("value"))
        if kind is None or op not in OPS_BY_TYPE[kind]:
            allowed = OPS_BY_TYPE[kind or "string"]
            self.fail(
                f"{path}.op",
                f"Unknown operator {op!r} for a {kind or 'string'}: use one of "
                f"{', '.join(allowed)}.",
            )
            return None
        if op in ("exists", "not_exists"):
            if data.get("value") is not None:
                self.fail(f"{path}.value", f"{op} takes no value.")
                return None
            return Compare(kind, op)
        value = self.value(kind, op, data.get("value"), f"{path}.value")
        return None if value is None else Compare(kind, op, value)

    def value(self, kind: str, op: str, raw: Any, path: str) -> Any:
        if op in ("in", "not_in"):
            if (
                not isinstance(raw, list)
                or not raw
                or len(raw) > MAX_IN_VALUES
                or not all(_is_text(v, MAX_TEXT, empty=True) for v in raw)
            ):
                self.fail(path, f"{op} takes a non-empty list of up to {MAX_IN_VALUES} strings.")
                return None
            return tuple(raw)
        if op == "between":
            if not isinstance(raw, list) or len(raw) != 2:
                self.fail(path, "between takes a list of two values, [low, high].")
                return None
            pair = [self.scalar(kind, v, f"{path}[{i}]") for i, v in enumerate(raw)]
            return None if any(v is None for v in pair) else tuple(pair)
        if op in RELATIVE_DATE_OPS:
            window = self.window(raw, path)
            if window is None:
                return None
            if window.seconds is None:
                self.fail(path, f"{op} takes {{days|hours|minutes: n}}.")
                return None
            return timedelta(seconds=window.seconds)
        return self.scalar(kind, raw, path)

    def scalar(self, kind: str, raw: Any, path: str) -> Any:
        if kind == "string":
            if not _is_text(raw, MAX_TEXT, empty=True):
                self.fail(path, f"The value must be a string of at most {MAX_TEXT} characters.")
                return None
            return raw
        if kind == "number":
            if not _is_number(raw):
                self.fail(path, "The value must be a number.")
                return None
            return float(raw)
        if kind == "boolean":
            if not isinstance(raw, bool):
                self.fail(path, "The value must be true or false.")
                return None
            return raw
        moment = parse_iso_datetime(raw) if isinstance(raw, str) else None
        if moment is None:
            self.fail(path, "The value must be an ISO-8601 date or time.")
        return moment


def _infer_type(op: str, value: Any) -> str | None:
    """The type of a field with none of its own (a custom field, an event property): any
    type for exists/not_exists, else the value's, else the operator's."""
    if op in ("exists", "not_exists"):
        return "any"
    values = value if isinstance(value, list) else [value]
    if values and all(isinstance(v, bool) for v in values):
        return "boolean"
    if values and all(_is_number(v) for v in values):
        return "number"
    if op in DATE_OPS:
        return "date"
    if op in ("gt", "gte", "lt", "lte"):
        return "number"
    return "string"


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _is_text(value: Any, max_length: int, *, empty: bool = False) -> bool:
    return (
        isinstance(value, str)
        and (empty or bool(value.strip()))
        and len(value) <= max_length
        and "\x00" not in value
    )


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= 1e15
    )


def parse(data: Any, path: str = "condition") -> Node:
    """The typed condition, or :class:`DefinitionError` with every problem found."""
    parser = _Parser()
    node = parser.condition(data, path)
    if parser.errors or node is None:
        raise DefinitionError(parser.errors or {path: ["The condition is not valid."]})
    return node
