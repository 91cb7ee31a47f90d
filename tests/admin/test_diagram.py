"""The flow diagram's layout: each step a row below every step that leads to it (loops set
aside), arrows down between neighbouring rows, round the left past rows between, round the
right for a loop back up, and each step's figures on its box."""

from __future__ import annotations

from cartwheel.admin import diagram
from cartwheel.flows.definition import parse_definition
from cartwheel.flows.schemas import ABANDONED_CART, StepStats


def _stats(step: str, entered: int, waiting: int) -> StepStats:
    return StepStats(
        step=step,
        type="wait",
        entered=entered,
        waiting=waiting,
        done=entered - waiting,
        exited=0,
        skipped=0,
        skippedReasons={},
    )


def test_the_abandoned_cart_flow_reads_top_down() -> None:
    drawn = diagram.layout(parse_definition(ABANDONED_CART), [_stats("wait1", 10, 3)])
    rows = [b.step for b in sorted(drawn.boxes, key=lambda b: b.y)]
    assert rows == ["wait1", "check", "remind", "vip", "crm", "tag", "done"]
    assert len({b.x for b in drawn.boxes}) == 1  # one column
    assert [b.step for b in drawn.boxes if b.start] == ["wait1"]
    first = next(b for b in drawn.boxes if b.step == "wait1")
    assert first.stats is not None and (first.stats.entered, first.stats.waiting) == (10, 3)
    assert next(b for b in drawn.boxes if b.step == "tag").stats is None
    # 8 exits in all; check→done (onEvent) and vip→done (else) pass rows: round the left.
    assert len(drawn.edges) == 8
    passing = [e for e in drawn.edges if e.anchor == "end"]
    assert sorted(e.label for e in passing) == ["else", "onEvent"]
    x0 = min(b.x for b in drawn.boxes)
    for edge in passing:
        bend = int(edge.path.split("C")[1].split(",")[0])
        assert bend < x0  # left of the boxes, not through them
    assert all(b.x >= 0 and b.x + diagram.BOX_W <= drawn.width for b in drawn.boxes)


def test_a_loop_goes_round_the_right_and_a_branch_side_by_side() -> None:
    definition = parse_definition(
        {
            "name": "Loop",
            "trigger": {"event": "A"},
            "start": "wait",
            "steps": {
                "wait": {"type": "wait", "for": {"hours": 1}, "next": "check"},
                "check": {
                    "type": "branch",
                    "if": {"profile": "firstName", "op": "eq", "value": "x"},
                    "then": "wait",
                    "else": "tag",
                },
                "tag": {
                    "type": "update_profile",
                    "set": {"customFields.looped": True},
                    "next": "end",
                },
                "end": {"type": "exit"},
            },
        }
    )
    drawn = diagram.layout(definition, [])
    y = {b.step: b.y for b in drawn.boxes}
    assert y["wait"] < y["check"] < y["tag"] < y["end"]
    loop = next(e for e in drawn.edges if e.label == "then")
    assert loop.anchor == "start"
    bend = int(loop.path.split("C")[1].split(",")[0])
    assert bend > max(b.x for b in drawn.boxes) + diagram.BOX_W
    assert bend <= drawn.width
