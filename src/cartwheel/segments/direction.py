"""Which way one more event can move a condition's answer, so the worker re-checks only the
(segment, contact) pairs whose answer that event could change.

An event can only add to what an event condition counts: a count grows by one, a sum by the
event's contribution (or by nothing, when the event falls outside the window or its
``where``). So a condition such as "ordered at least twice" can only turn from false to
true (:data:`UP`), "ordered at most once" only from true to false (:data:`DOWN`), "ordered
exactly twice" either way (:data:`BOTH`). ``not`` turns the direction round; ``all`` and
``any`` keep it when all their affected parts agree. A contact already in a segment that
the event can only move :data:`UP` stays in it, and one outside a segment it can only move
:data:`DOWN` stays out: the worker skips those pairs without evaluating them. Time does not
change this: an answer that changes with time alone has its own due check
(:mod:`cartwheel.segments.membership`), which one more event never makes later."""

from __future__ import annotations

import math
from typing import Any, Literal

from cartwheel.segments.definition import (
    RELATIVE_DATE_OPS,
    EventCondition,
    Group,
    Node,
    ProfileCondition,
    PropertyCondition,
)

UP: Literal[1] = 1
DOWN: Literal[-1] = -1
BOTH: Literal[0] = 0
Direction = Literal[1, -1, 0]


def direction(node: Node, event: Any, *, properties: bool = True) -> Direction | None:
    """How one more ``event`` (anything with ``name``, ``category``, ``action``, ``value``,
    ``properties`` and ``property_types``) can move ``node``; None when it cannot at all.
    Without ``properties``, for any event of that kind: ``where`` conditions are taken as
    passed (they can only narrow what moves)."""
    if isinstance(node, Group):
        found = {
            d
            for child in node.children
            if (d := direction(child, event, properties=properties)) is not None
        }
        if not found:
            return None
        combined: Direction = found.pop() if len(found) == 1 else BOTH
        if node.kind == "not":
            return _opposite(combined)
        return combined
    if isinstance(node, EventCondition) and counts_kind(node, event):
        if properties and node.where is not None and passes(node.where, event) is False:
            return None  # the event is not one this condition counts
        if node.sum is None:
            return _of_compare(node.count_op, node.count, 1.0)
        return _of_compare(node.sum_op, None, _contribution(node, event))
    return None


def with_time(node: Node) -> Direction | None:
    """How time passing alone can move ``node``; None when it cannot. A count in a window
    relative to now can only fall as events leave it (so "at least N in the last week"
    only turns false, :data:`DOWN`); a sum, a relative date on an event's property or on the
    profile may go either way (:data:`BOTH`). A contact already out of a segment that time
    can only move :data:`DOWN` needs no time check, nor one in a segment time can only move
    :data:`UP`."""
    if isinstance(node, Group):
        found = {d for child in node.children if (d := with_time(child)) is not None}
        if not found:
            return None
        combined: Direction = found.pop() if len(found) == 1 else BOTH
        return _opposite(combined) if node.kind == "not" else combined
    if isinstance(node, EventCondition):
        if node.where is not None and _relative_dates(node.where):
            return BOTH
        if node.within is None or node.within.seconds is None:
            return None
        if node.sum is not None:
            return BOTH
        if node.count_op == "eq":  # falling counts reach "exactly 0", pass any other
            return UP if node.count == 0 else BOTH
        return _of_compare(node.count_op, node.count, -1.0)
    if isinstance(node, ProfileCondition) and node.compare.op in RELATIVE_DATE_OPS:
        return BOTH
    return None


def _relative_dates(node: Node) -> bool:
    if isinstance(node, Group):
        return any(_relative_dates(child) for child in node.children)
    return isinstance(node, PropertyCondition) and node.compare.op in RELATIVE_DATE_OPS


def counts_kind(node: EventCondition, event: Any) -> bool:
    """Whether ``node`` counts events of ``event``'s name or lifecycle kind."""
    if node.name is not None:
        return bool(node.name == event.name)
    return bool(
        node.category == event.category and (node.action is None or node.action == event.action)
    )


def _of_compare(op: str, count: int | None, step: float) -> Direction:
    """The direction of ``aggregate <op> target`` when the aggregate grows by ``step``."""
    if step == 0:
        return UP  # nothing changes; any direction is right
    if op == "eq":
        return DOWN if count == 0 else BOTH
    grows: Direction = UP if op in ("gte", "gt") else DOWN
    return grows if step > 0 else _opposite(grows)


def _contribution(node: EventCondition, event: Any) -> float:
    """What the event adds to the condition's sum (0 when it adds nothing)."""
    if node.sum == "value":
        raw = event.value
    else:
        assert node.sum is not None
        types = event.property_types or {}
        raw = (event.properties or {}).get(node.sum) if types.get(node.sum) == "number" else None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return 0.0
    value = float(raw)
    return value if math.isfinite(value) else 0.0


def _opposite(value: Direction) -> Direction:
    if value == UP:
        return DOWN
    if value == DOWN:
        return UP
    return BOTH


def refused(leaves: list[EventCondition], event: Any) -> bool:
    """Whether every leaf counting ``event``'s kind surely refuses it by its ``where``."""
    return all(
        leaf.where is not None and passes(leaf.where, event) is False
        for leaf in leaves
        if counts_kind(leaf, event)
    )


def passes(node: Node, event: Any) -> bool | None:
    """Whether ``event`` passes a ``where`` condition, where that is certain from the simple
    comparisons (``eq``, ``in``, their negations, ``exists``, and order on numbers) of
    strings, numbers and booleans; None (unknown) for anything else, which the caller must
    then treat as "may pass". A sure answer is the compiler's (``compiler._where``): a
    property is present when its recorded type is the condition's type, and a missing one
    satisfies only ``neq``, ``not_in`` and ``not_exists``."""
    if isinstance(node, Group):
        found = [passes(child, event) for child in node.children]
        if node.kind == "not":
            return None if found[0] is None else not found[0]
        if node.kind == "all":
            return False if False in found else (None if None in found else True)
        return True if True in found else (None if None in found else False)
    if not isinstance(node, PropertyCondition):
        return None
    compare = node.compare
    kind, op, target = compare.type, compare.op, compare.value
    if kind not in ("string", "number", "boolean"):
        return None
    types = event.property_types or {}
    value = (event.properties or {}).get(node.property)
    present = types.get(node.property) == kind
    if present and not _of_type(value, kind):
        return None  # a recorded type the value does not have: leave it to the database
    if op in ("exists", "not_exists"):
        return present if op == "exists" else not present
    if op in ("neq", "not_in"):
        if not present:
            return True
        return value != target if op == "neq" else value not in target
    if not present:
        return False
    if op == "eq":
        return bool(value == target)
    if op == "in":
        return value in target
    if kind == "number" and op in _ORDER:
        return bool(_ORDER[op](float(value), target))  # type: ignore[arg-type]
    return None


_ORDER: dict[str, Any] = {
    "gt": lambda v, t: v > t,
    "gte": lambda v, t: v >= t,
    "lt": lambda v, t: v < t,
    "lte": lambda v, t: v <= t,
    "between": lambda v, t: t[0] <= v <= t[1],
}


def _of_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
