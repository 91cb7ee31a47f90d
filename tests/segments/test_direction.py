"""Which way one more event can move a condition (the worker skips the pairs it cannot move);
the equivalence test proves the skipping right over random histories, these name the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from cartwheel.segments.definition import parse
from cartwheel.segments.direction import BOTH, DOWN, UP, direction


@dataclass
class Seen:
    name: str = "Order Placed"
    category: str | None = "order"
    action: str | None = "created"
    value: float | None = 10.0
    properties: dict[str, Any] = field(default_factory=lambda: {"total": 5})
    property_types: dict[str, str] = field(default_factory=lambda: {"total": "number"})


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"event": "Order Placed"}, UP),
        ({"event": "Order Placed", "count": {"gte": 3}}, UP),
        ({"event": "Order Placed", "count": {"lte": 3}}, DOWN),
        ({"event": "Order Placed", "count": {"eq": 0}}, DOWN),
        ({"event": "Order Placed", "count": {"eq": 2}}, BOTH),
        ({"not": {"event": "Order Placed", "within": {"days": 3}}}, DOWN),
        ({"event": {"category": "order"}, "sum": "value", "op": "gte", "value": 5}, UP),
        ({"event": {"category": "order"}, "sum": "value", "op": "lt", "value": 5}, DOWN),
        ({"all": [{"event": "Order Placed"}, {"not": {"event": "Order Placed"}}]}, BOTH),
        ({"any": [{"event": "Order Placed"}, {"profile": "email", "op": "exists"}]}, UP),
        ({"event": "Viewed Product"}, None),
        ({"event": {"category": "order", "action": "completed"}}, None),
        ({"profile": "email", "op": "exists"}, None),
    ],
)
def test_the_direction_of_one_more_event(condition: dict[str, Any], expected: Any) -> None:
    assert direction(parse(condition), Seen()) == expected


def test_a_negative_amount_turns_a_sum_round() -> None:
    at_least = parse({"event": "Order Placed", "sum": "total", "op": "gte", "value": 5})
    refund = Seen(properties={"total": -20})
    assert direction(at_least, refund) == DOWN
    assert direction(at_least, Seen()) == UP


def test_an_event_that_adds_nothing_to_a_sum_moves_nothing_either_way() -> None:
    exactly = parse({"event": "Order Placed", "sum": "total", "op": "eq", "value": 5})
    untyped = Seen(property_types={})  # "total" not recorded as a number: it adds 0
    assert direction(exactly, untyped) == UP  # the answer cannot change: any side is right
