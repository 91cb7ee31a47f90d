"""A flow's steps drawn as a diagram, laid out on the server (an SVG in the page: no
script, no Node build): steps in rows by their distance from the start, arrows for every
way out of a step (labelled when it is not the plain ``next``; round the side when it
passes other rows or loops back up), and each step's figures
from the step log."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from cartwheel.flows.definition import Definition
from cartwheel.flows.schemas import StepStats

BOX_W, BOX_H = 200, 88
GAP_X, GAP_Y = 36, 60
MARGIN = 16
#: How far an arrow round the boxes swings out: to the right for a loop back up, to the
#: left for one past the rows between.
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
    anchor: str = "middle"


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    edges: list[Edge]


def _rows(definition: Definition) -> list[list[str]]:
    """Steps in rows: each step one row below the lowest step that leads to it (the
    longest way from ``start``, loops set aside), so arrows point down; within a row, in
    the order their exits are written. A step not reached (there should be none) goes
    last."""
    steps = definition.steps
    # Depth-first from the start: the edges back to a step still being walked close loops.
    order: list[str] = []
    loops: set[tuple[str, str]] = set()
    walking: set[str] = set()
    seen: set[str] = set()

    def walk(step_id: str) -> None:
        seen.add(step_id)
        walking.add(step_id)
        for _, target in steps[step_id].exits():
            if target not in steps:
                continue
            if target in walking:
                loops.add((step_id, target))
            elif target not in seen:
                walk(target)
        walking.discard(step_id)
        order.append(step_id)

    if definition.start in steps:
        walk(definition.start)
    depth = {step_id: 0 for step_id in order}
    for step_id in reversed(order):  # a topological order of the loop-free edges
        for _, target in steps[step_id].exits():
            if target in depth and (step_id, target) not in loops:
                depth[target] = max(depth[target], depth[step_id] + 1)
    last = max(depth.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(last + 1)]
    placed: set[str] = set()
    queue = deque([definition.start] if definition.start in steps else [])
    while queue:  # breadth first, so a row keeps the order the exits are written in
        step_id = queue.popleft()
        if step_id in placed:
            continue
        placed.add(step_id)
        rows[depth[step_id]].append(step_id)
        queue.extend(t for _, t in steps[step_id].exits() if t in steps and t not in placed)
    rows[last].extend(step_id for step_id in steps if step_id not in placed)
    return [row for row in rows if row]


def layout(definition: Definition, stats: list[StepStats]) -> Diagram:
    by_step = {s.step: s for s in stats}
    rows = _rows(definition)
    widest = max(len(row) for row in rows)
    width = 2 * (MARGIN + SWING) + widest * BOX_W + (widest - 1) * GAP_X
    height = 2 * MARGIN + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y
    place: dict[str, tuple[int, int, int]] = {}
    boxes: list[Box] = []
    for r, row in enumerate(rows):
        # Each row centred under the widest one.
        offset = (widest - len(row)) * (BOX_W + GAP_X) // 2
        for c, step_id in enumerate(row):
            x = MARGIN + SWING + offset + c * (BOX_W + GAP_X)
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
            if trow == srow:  # across the row: side to side
                left = tx > sx
                x1, y1 = (sx + BOX_W, sy + BOX_H // 2) if left else (sx, sy + BOX_H // 2)
                x2, y2 = (tx, ty + BOX_H // 2) if left else (tx + BOX_W, ty + BOX_H // 2)
                path = f"M{x1},{y1} L{x2},{y2}"
                lx, ly = (x1 + x2) // 2, y1 - 6
            elif trow > srow + 1:  # past the rows between: down the left side
                x1, y1, x2, y2 = sx, sy + BOX_H // 2, tx, ty + BOX_H // 2
                out = min(x1, x2) - SWING
                path = f"M{x1},{y1} C{out},{y1} {out},{y2} {x2},{y2}"
                edges.append(Edge(path, label, x1 - 4, y1 - 6, "end"))  # named where it leaves
                continue
            elif trow > srow:
                x1, y1, x2, y2 = sx + BOX_W // 2, sy + BOX_H, tx + BOX_W // 2, ty
                bend = (y2 - y1) // 2
                path = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
                lx, ly = (x1 + x2) // 2, (y1 + y2) // 2
            else:  # back to a row above (a loop): out and round the right side
                x1, y1, x2, y2 = sx + BOX_W, sy + BOX_H // 2, tx + BOX_W, ty + BOX_H // 2
                out = max(x1, x2) + SWING
                path = f"M{x1},{y1} C{out},{y1} {out},{y2} {x2},{y2}"
                edges.append(Edge(path, label, x1 + 4, y1 - 6, "start"))
                continue
            edges.append(Edge(path, label, lx, ly))
    return Diagram(width, height, boxes, edges)
