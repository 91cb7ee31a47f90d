"""A flow's steps drawn as a diagram, laid out on the server (an SVG in the page: no
script, no Node build): steps in rows by their distance from the start, arrows for every
way out of a step (labelled when it is not the plain ``next``), and each step's figures
from the step log."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from cartwheel.flows.definition import Definition
from cartwheel.flows.schemas import StepStats

BOX_W, BOX_H = 200, 88
GAP_X, GAP_Y = 36, 60
MARGIN = 16
#: How far a back edge (to a row above, or the same row) swings out to the right.
SWING = 48


@dataclass(frozen=True)
class Box:
    step: str
    type: str
    x: int
    y: int
    stats: StepStats | None
    start: bool


@dataclass(frozen=True)
class Edge:
    path: str
    label: str
    label_x: int
    label_y: int


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    edges: list[Edge]


def _rows(definition: Definition) -> list[list[str]]:
    """Steps by their distance from ``start`` (breadth first, in the order their exits are
    written); any step not reached (there should be none) goes last."""
    depth = {definition.start: 0}
    queue = deque([definition.start])
    order = [definition.start]
    while queue:
        step_id = queue.popleft()
        step = definition.steps.get(step_id)
        if step is None:
            continue
        for _, target in step.exits():
            if target not in depth and target in definition.steps:
                depth[target] = depth[step_id] + 1
                order.append(target)
                queue.append(target)
    last = max(depth.values(), default=0) + 1
    for step_id in definition.steps:
        if step_id not in depth:
            depth[step_id] = last
            order.append(step_id)
    rows: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for step_id in order:
        rows[depth[step_id]].append(step_id)
    return [row for row in rows if row]


def layout(definition: Definition, stats: list[StepStats]) -> Diagram:
    by_step = {s.step: s for s in stats}
    rows = _rows(definition)
    widest = max(len(row) for row in rows)
    width = 2 * MARGIN + widest * BOX_W + (widest - 1) * GAP_X + SWING
    height = 2 * MARGIN + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y
    place: dict[str, tuple[int, int, int]] = {}
    boxes: list[Box] = []
    for r, row in enumerate(rows):
        # Each row centred under the widest one.
        offset = (widest - len(row)) * (BOX_W + GAP_X) // 2
        for c, step_id in enumerate(row):
            x = MARGIN + offset + c * (BOX_W + GAP_X)
            y = MARGIN + r * (BOX_H + GAP_Y)
            place[step_id] = (x, y, r)
            step = definition.steps[step_id]
            boxes.append(
                Box(step_id, step.type, x, y, by_step.get(step_id), step_id == definition.start)
            )
    edges: list[Edge] = []
    for step_id, step in definition.steps.items():
        sx, sy, srow = place[step_id]
        for name, target in step.exits():
            if target not in place:
                continue
            tx, ty, trow = place[target]
            label = "" if name == "next" else name
            if trow > srow:
                x1, y1, x2, y2 = sx + BOX_W // 2, sy + BOX_H, tx + BOX_W // 2, ty
                bend = (y2 - y1) // 2
                path = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
                lx, ly = (x1 + x2) // 2, (y1 + y2) // 2
            else:  # back to a row above (or across the row): out and round the right side
                x1, y1, x2, y2 = sx + BOX_W, sy + BOX_H // 2, tx + BOX_W, ty + BOX_H // 2
                out = max(x1, x2) + SWING
                path = f"M{x1},{y1} C{out},{y1} {out},{y2} {x2},{y2}"
                lx, ly = out - 8, (y1 + y2) // 2
            edges.append(Edge(path, label, lx, ly))
    return Diagram(width, height, boxes, edges)
