"""Which way one more event can move a condition (the worker skips the pairs it cannot move);
the equivalence test proves the skipping right over random histories, these name the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from cartwheel.segments.definition import parse
from cartwheel.segments.direction import BOTH, DOWN, UP, direction, with_time


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


@pytest.mark.parametrize(
    ("where", "properties", "types", "expected"),
    [
        (
            {"property": "sku", "op": "eq", "value": "TSH-7"},
            {"sku": "TSH-8"},
            {"sku": "string"},
            None,
        ),
        (
            {"property": "sku", "op": "eq", "value": "TSH-7"},
            {"sku": "TSH-7"},
            {"sku": "string"},
            UP,
        ),
        ({"property": "sku", "op": "eq", "value": "TSH-7"}, {}, {}, None),
        ({"property": "sku", "op": "neq", "value": "TSH-7"}, {}, {}, UP),
        ({"property": "total", "op": "gte", "value": 20}, {"total": 5}, {"total": "number"}, None),
        ({"property": "total", "op": "gte", "value": 20}, {"total": 25}, {"total": "number"}, UP),
        # recorded as a string, so not a number here: missing for a number condition
        ({"property": "total", "op": "lt", "value": 20}, {"total": "5"}, {"total": "string"}, None),
        # what is not sure (a date, text matching) is left to the database: it may pass
        (
            {"property": "sku", "op": "contains", "value": "x"},
            {"sku": "TSH"},
            {"sku": "string"},
            UP,
        ),
        (
            {"property": "at", "op": "before", "value": "2026-01-01T00:00:00Z"},
            {"at": "2027-01-01T00:00:00Z"},
            {"at": "date"},
            UP,
        ),
    ],
)
def test_an_event_its_where_refuses_moves_nothing(
    where: dict[str, Any], properties: dict[str, Any], types: dict[str, str], expected: Any
) -> None:
    condition = parse({"event": "Order Placed", "where": {"all": [where]}})
    assert direction(condition, Seen(properties=properties, property_types=types)) == expected


def test_a_where_under_not_is_sure_only_when_its_part_is() -> None:
    refused = {"not": {"all": [{"property": "sku", "op": "eq", "value": "A"}]}}
    condition = parse({"event": "Order Placed", "where": refused})
    assert (
        direction(condition, Seen(properties={"sku": "A"}, property_types={"sku": "string"}))
        is None
    )
    assert (
        direction(condition, Seen(properties={"sku": "B"}, property_types={"sku": "string"})) == UP
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"event": "Visited", "within": {"days": 1}}, DOWN),
        ({"event": "Visited", "count": {"gte": 3}, "within": {"hours": 2}}, DOWN),
        ({"event": "Visited", "count": {"lte": 3}, "within": {"hours": 2}}, UP),
        ({"event": "Visited", "count": {"eq": 0}, "within": {"hours": 2}}, UP),
        ({"event": "Visited", "count": {"eq": 2}, "within": {"hours": 2}}, BOTH),
        ({"not": {"event": "Visited", "within": {"minutes": 5}}}, UP),
        (
            {"event": "Visited", "sum": "total", "op": "gte", "value": 5, "within": {"days": 1}},
            BOTH,
        ),
        (
            {
                "event": "Visited",
                "where": {"property": "at", "op": "within_last", "value": {"days": 1}},
            },
            BOTH,
        ),
        ({"profile": "customFields.Birthday", "op": "within_next", "value": {"days": 7}}, BOTH),
        (
            {
                "all": [
                    {"event": "Visited", "within": {"days": 1}},
                    {"profile": "email", "op": "exists"},
                ]
            },
            DOWN,
        ),
        ({"event": "Visited"}, None),
        ({"event": "Visited", "within": {"after": "2026-01-01T00:00:00Z"}}, None),
        ({"profile": "email", "op": "exists"}, None),
    ],
)
def test_the_direction_of_time_passing(condition: dict[str, Any], expected: Any) -> None:
    """Windows relative to now only lose events as time passes; an absolute window, none."""
    assert with_time(parse(condition)) == expected
