"""The segment builder's form: rows of simple conditions joined by all/any, or a condition
written as JSON, turned into the condition the segments API takes (and checked by the
same parser)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cartwheel.admin.csrf import Form

KINDS = {
    "did": "did an event",
    "did_not": "did not do an event",
    "profile": "has a profile field",
    "consent": "email consent is",
}
OPS = {
    "eq": "is",
    "neq": "is not",
    "contains": "contains",
    "starts_with": "starts with",
    "in": "is one of (comma-separated)",
    "gt": "greater than",
    "gte": "at least",
    "lt": "less than",
    "lte": "at most",
    "exists": "is set",
    "not_exists": "is not set",
}
PROFILE_FIELDS = (
    "email",
    "phone",
    "name",
    "firstName",
    "lastName",
    "city",
    "state",
    "country",
    "countryCode",
    "zip",
    "source",
    "subscribed",
    "createdAt",
)
_NUMERIC_OPS = {"gt", "gte", "lt", "lte"}
_NUMERIC_FIELDS = {"latitude", "longitude"}


@dataclass
class Row:
    kind: str = "did"
    event: str = ""
    min_count: str = ""
    within_days: str = ""
    field: str = "email"
    op: str = "eq"
    value: str = ""
    consent: str = "subscribed"


@dataclass
class Built:
    """The builder's state (to show it again) and the condition, or why there is none."""

    match: str = "all"
    rows: list[Row] = field(default_factory=lambda: [Row()])
    json_text: str = ""
    condition: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing described yet (a new builder): no JSON, no event named, no other row."""
        return not self.json_text and all(
            r.kind in ("did", "did_not") and not r.event.strip() for r in self.rows
        )


def rows_of(form: Form) -> list[Row]:
    columns = {name: form.all(name) for name in Row.__dataclass_fields__}
    count = len(columns["kind"])
    rows = []
    for i in range(min(count, 50)):
        values = {name: (v[i] if i < len(v) else "") for name, v in columns.items()}
        rows.append(Row(**values))
    return rows


def _number(text: str) -> float | int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _positive(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and 0 < int(text) <= 100_000 else None


def row_condition(row: Row, index: int) -> tuple[dict[str, Any] | None, str | None]:
    where = f"Condition {index + 1}"
    if row.kind in ("did", "did_not"):
        name = row.event.strip()
        if not name:
            return None, f"{where}: name the event."
        node: dict[str, Any] = {"event": name}
        if row.min_count.strip():
            count = _positive(row.min_count)
            if count is None:
                return None, f"{where}: the count must be a whole number above 0."
            if count > 1:
                node["count"] = {"gte": count}
        if row.within_days.strip():
            days = _positive(row.within_days)
            if days is None:
                return None, f"{where}: the days must be a whole number above 0."
            node["within"] = {"days": days}
        return (node if row.kind == "did" else {"not": node}), None
    if row.kind == "profile":
        name = row.field.strip()
        if not name:
            return None, f"{where}: name the field."
        if row.op not in OPS:
            return None, f"{where}: choose an operator."
        node = {"profile": name, "op": row.op}
        if row.op in ("exists", "not_exists"):
            return node, None
        text = row.value.strip()
        value: Any = text
        if row.op == "in":
            value = [part.strip() for part in text.split(",") if part.strip()]
        elif row.op in _NUMERIC_OPS or name in _NUMERIC_FIELDS:
            value = _number(text)
            if value is None:
                return None, f"{where}: the value must be a number."
        elif name == "subscribed":
            value = text.lower() in ("true", "yes", "1")
        node["value"] = value
        return node, None
    if row.kind == "consent":
        status = row.consent if row.consent in ("subscribed", "unsubscribed") else "subscribed"
        return {"consent": "email", "status": status}, None
    return None, f"{where}: choose what kind of condition it is."


def build(form: Form) -> Built:
    built = Built(
        match="any" if form.get("match") == "any" else "all",
        rows=rows_of(form) or [Row()],
        json_text=form.get("condition_json").strip(),
    )
    if built.json_text:
        try:
            parsed = json.loads(built.json_text)
        except ValueError as exc:
            built.errors.append(f"The JSON condition is not valid JSON: {exc}.")
            return built
        if not isinstance(parsed, dict):
            built.errors.append("The JSON condition must be an object.")
            return built
        built.condition = parsed
        return built
    nodes = []
    for index, row in enumerate(built.rows):
        node, error = row_condition(row, index)
        if error:
            built.errors.append(error)
        elif node is not None:
            nodes.append(node)
    if not built.errors:
        built.condition = {built.match: nodes}
    return built
