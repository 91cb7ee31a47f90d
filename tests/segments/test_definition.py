"""Parsing a condition: the issue's example is accepted, and every mistake is reported at
its JSON path with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from cartwheel.segments.definition import (
    DefinitionError,
    EventCondition,
    Group,
    ProfileCondition,
    mentions,
    parse,
)
from cartwheel.segments.schemas import EXAMPLE_CONDITION


def test_the_issue_example_parses_with_what_it_mentions() -> None:
    node = parse(EXAMPLE_CONDITION)
    assert isinstance(node, Group) and node.kind == "all" and len(node.children) == 8
    first = node.children[0]
    assert isinstance(first, EventCondition)
    assert (first.name, first.count_op, first.count) == ("Order Placed", "gte", 2)
    assert first.within is not None and first.within.seconds == 30 * 86400
    found = mentions(node)
    assert found.names == {"Order Placed", "Order Refunded"}
    assert found.kinds == {("order", "completed")}
    assert found.lists == {12} and found.segments == {7}
    assert found.profile and found.timed


def test_profile_fields_map_to_columns_and_custom_fields() -> None:
    node = parse({"profile": "countryCode", "op": "in", "value": ["US"]})
    assert isinstance(node, ProfileCondition) and node.column == "country_code"
    node = parse({"profile": "customFields.Loyalty Tier", "op": "eq", "value": "Gold"})
    assert isinstance(node, ProfileCondition) and node.custom == "Loyalty Tier"


def errors_of(condition: Any) -> dict[str, list[str]]:
    with pytest.raises(DefinitionError) as caught:
        parse(condition)
    return caught.value.errors


@pytest.mark.parametrize(
    ("condition", "path", "words"),
    [
        (
            {"all": [{"list": 1}, {"list": 2}, {"profile": "countryCode", "op": "gt", "value": 1}]},
            "condition.all[2].op",
            "Unknown operator",
        ),
        ({"all": []}, "condition.all", "empty"),
        ({"any": [{"not": {"any": []}}]}, "condition.any[0].not.any", "empty"),
        (
            {"event": "X", "where": {"property": "$extra.total", "op": "eq", "value": 1}},
            "condition.where.property",
            "segmentable",
        ),
        ({"event": "X", "count": {"most": 2}}, "condition.count.most", "count operator"),
        ({"event": "X", "within": {"weeks": 2}}, "condition.within", "within"),
        ({"event": "X", "sum": "value", "op": "gte"}, "condition.value", "number"),
        ({"profile": "shoeSize", "op": "eq", "value": "x"}, "condition.profile", "Unknown"),
        ({"profile": "subscribed", "op": "contains", "value": "x"}, "condition.op", "boolean"),
        ({"profile": "createdAt", "op": "within_last", "value": 3}, "condition.value", "within"),
        ({"consent": "sms", "status": "subscribed"}, "condition.consent", "email"),
        ({"list": "twelve"}, "condition.list", "id"),
        ({"event": "X", "extra": 1}, "condition.extra", "Unknown field"),
        ([], "condition", "object"),
    ],
)
def test_a_wrong_definition_names_the_path_and_why(condition: Any, path: str, words: str) -> None:
    errors = errors_of(condition)
    assert path in errors, errors
    assert any(words in message for message in errors[path]), errors


def test_depth_and_size_are_bounded() -> None:
    deep: Any = {"list": 1}
    for _ in range(20):
        deep = {"not": deep}
    assert any("nest" in m for ms in errors_of(deep).values() for m in ms)
    wide = {"any": [{"list": 1}] * 200}
    assert any("at most" in m for ms in errors_of(wide).values() for m in ms)


def test_a_kind_with_and_without_an_action_both_mentioned() -> None:
    node = parse(
        {"any": [{"event": {"category": "order"}}, {"event": {"category": "order", "action": "x"}}]}
    )
    assert mentions(node).as_json()["kinds"] == [["order", None], ["order", "x"]]
