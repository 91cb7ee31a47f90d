"""Segment request and response shapes.

Bodies are decoded by hand (:func:`parse_body`) so a wrong condition is answered with the
JSON path of its bad part; the pydantic request models document the bodies in OpenAPI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cartwheel.exceptions import BadRequest, ValidationFailed
from cartwheel.segments.definition import DefinitionError, Node, parse
from cartwheel.text import CONTROL_CHARACTERS

#: The issue's definition: the OpenAPI example of a new segment.
EXAMPLE_CONDITION: dict[str, Any] = {
    "all": [
        {
            "event": "Order Placed",
            "count": {"gte": 2},
            "within": {"days": 30},
            "where": {"all": [{"property": "total", "op": "gte", "value": 20}]},
        },
        {
            "event": {"category": "order", "action": "completed"},
            "sum": "value",
            "op": "gte",
            "value": 500,
            "within": {"days": 365},
        },
        {"profile": "countryCode", "op": "in", "value": ["US", "CA"]},
        {"profile": "customFields.Loyalty Tier", "op": "eq", "value": "Gold"},
        {"any": [{"list": 12}, {"segment": 7}]},
        {"not": {"event": "Order Refunded", "within": {"days": 30}}},
        {"profile": "customFields.Birthday", "op": "within_next", "value": {"days": 7}},
        {"consent": "email", "status": "subscribed"},
    ]
}
EXAMPLE: dict[str, Any] = {
    "name": "Repeat buyers, North America",
    "description": "optional",
    "condition": EXAMPLE_CONDITION,
}
#: An example that needs no list or segment of the store (the hostile suite sends it).
SIMPLE_EXAMPLE: dict[str, Any] = {
    "name": "Recent buyers in the US",
    "condition": {
        "all": [
            {"event": "Order Placed", "within": {"days": 30}},
            {"profile": "countryCode", "op": "eq", "value": "US"},
        ]
    },
}

_CONDITION = (
    "The condition: groups `all`/`any`/`not`; event conditions (`event` by name or "
    "`{category, action}`, `count` or `sum`/`op`/`value`, `within`, `where`); profile "
    "conditions (`profile`, `op`, `value`); `list`, `segment`, `consent`. See docs/segments.md."
)

MAX_NAME = 200
MAX_DESCRIPTION = 2000
State = Literal["building", "live"]


class SegmentCreate(BaseModel):
    """A new segment: it is built over the existing history, then kept up to date."""

    name: str = Field(max_length=MAX_NAME, description="Name shown in the back office.")
    description: str | None = Field(
        default=None, max_length=MAX_DESCRIPTION, description="Optional description."
    )
    condition: dict[str, Any] = Field(description=_CONDITION)


class SegmentUpdate(BaseModel):
    """Change a segment: only the supplied fields change; a new condition makes a new
    version and rebuilds the membership."""

    name: str | None = Field(default=None, max_length=MAX_NAME, description="New name.")
    description: str | None = Field(default=None, description="New description.")
    condition: dict[str, Any] | None = Field(default=None, description=_CONDITION)


class PreviewInput(BaseModel):
    """A condition to try without saving anything."""

    condition: dict[str, Any] = Field(description=_CONDITION)


class Segment(BaseModel):
    id: int = Field(description="Unique identifier.")
    name: str = Field(description="Name.")
    description: str | None = Field(description="Description.")
    condition: dict[str, Any] = Field(description="The current version's condition.")
    version: int = Field(description="Starts at 1; each new condition adds one.")
    state: State = Field(description="`live` once built (segments build within the request).")
    size: int = Field(description="How many contacts are in the segment now.")
    createdAt: datetime = Field(description="When it was created.")
    updatedAt: datetime = Field(description="When it last changed.")


class SegmentMember(BaseModel):
    contactId: int = Field(description="The contact's id.")
    email: str | None = Field(description="The contact's email.")
    enteredAt: datetime = Field(description="When the contact entered the segment.")


class ContactSegment(BaseModel):
    segmentId: int = Field(description="The segment's id.")
    name: str = Field(description="The segment's name.")
    enteredAt: datetime = Field(description="When the contact entered it.")


class ContactSegments(BaseModel):
    items: list[ContactSegment] = Field(description="The segments the contact is in.")


class SampleContact(BaseModel):
    contactId: int = Field(description="The contact's id.")
    email: str | None = Field(description="The contact's email.")


class Preview(BaseModel):
    count: int = Field(description="How many of the store's contacts match now.")
    sample: list[SampleContact] = Field(description="Up to 20 of them, newest first.")


class ExplainNode(BaseModel):
    path: str = Field(description="The node's JSON path in the condition.")
    kind: str = Field(
        description="all, any, not, event, property, profile, list, segment or consent."
    )
    passed: bool = Field(description="Whether the node holds for the contact now.")
    saw: dict[str, Any] = Field(
        description="What the node saw: `count` (and `sum`) of the events in the window, "
        "the profile field's `value`, whether the contact is `member` of the list or segment, "
        "`subscribed`."
    )


class Explain(BaseModel):
    segmentId: int = Field(description="The segment.")
    contactId: int = Field(description="The contact.")
    version: int = Field(description="The condition version evaluated.")
    member: bool = Field(description="Whether the contact is in the segment now.")
    matches: bool = Field(
        description="Whether the condition holds now (equals `member` "
        "once the worker has processed everything queued)."
    )
    evaluatedAt: datetime = Field(description="The moment the condition was evaluated at.")
    nextCheckAt: datetime | None = Field(
        description="When the answer may next change with time alone (the sweep re-checks "
        "it then); null if only a new event or profile change can change it."
    )
    nodes: list[ExplainNode] = Field(description="Every node of the condition, depth first.")


class HistoryDay(BaseModel):
    day: str = Field(description="The UTC day, YYYY-MM-DD.")
    size: int = Field(description="The size at the end of the day (now, for today).")
    entered: int = Field(description="Contacts that entered that day.")
    exited: int = Field(description="Contacts that left that day.")


class History(BaseModel):
    items: list[HistoryDay] = Field(description="One line per day with changes, oldest first.")


# -- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentInput:
    name: str | None
    description: str | None
    description_given: bool
    condition: dict[str, Any] | None
    node: Node | None


def parse_body(data: Any, *, creating: bool) -> SegmentInput:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in ("name", "description", "condition"):
            errors[key] = ["Unknown field."]
    name = data.get("name")
    if name is None:
        if creating:
            errors["name"] = ["The name field is required."]
    elif not _single_line(name, MAX_NAME):
        errors["name"] = [f"The name must be a single line of 1 to {MAX_NAME} characters."]
    description = data.get("description")
    if description is not None and (
        not isinstance(description, str)
        or len(description) > MAX_DESCRIPTION
        or "\x00" in description
    ):
        errors["description"] = [f"The description must be text of at most {MAX_DESCRIPTION}."]
    condition = data.get("condition")
    node = None
    if condition is None:
        if creating:
            errors["condition"] = ["The condition field is required."]
    else:
        try:
            node = parse(condition)
        except DefinitionError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return SegmentInput(name, description, "description" in data, condition, node)


def parse_preview(data: Any) -> Node:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    if "condition" not in data:
        raise ValidationFailed({"condition": ["The condition field is required."]})
    extra = [k for k in data if k != "condition"]
    if extra:
        raise ValidationFailed({k: ["Unknown field."] for k in extra})
    try:
        return parse(data["condition"])
    except DefinitionError as exc:
        raise ValidationFailed(exc.errors) from None


def _single_line(value: Any, max_length: int) -> bool:
    return (
        isinstance(value, str)
        and bool(value.strip())
        and len(value) <= max_length
        and not CONTROL_CHARACTERS.search(value)
    )
