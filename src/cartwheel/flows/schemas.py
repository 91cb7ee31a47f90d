"""Flow request and response shapes, and the ready flows.

Bodies are decoded by hand (:func:`parse_body`) so a wrong definition is answered with the
JSON path of each bad part; the pydantic request models document the bodies in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cartwheel.exceptions import BadRequest, ValidationFailed
from cartwheel.flows.definition import Definition, parse_definition
from cartwheel.kit.ids import MAX_ID
from cartwheel.segments.definition import DefinitionError

#: The issue's abandoned-cart flow (template 3, segment 7 and the webhook must exist).
ABANDONED_CART: dict[str, Any] = {
    "name": "Abandoned cart",
    "trigger": {"event": {"category": "cart", "action": "updated"}, "key": "entity.id"},
    "entry": {
        "filter": {"consent": "email", "status": "subscribed"},
        "reentry": {"after": {"days": 7}},
        "perKey": "one_active",
    },
    "exitOn": [{"event": {"category": "order"}, "since": "trigger"}],
    "start": "wait1",
    "steps": {
        "wait1": {"type": "wait", "for": {"hours": 4}, "next": "check"},
        "check": {
            "type": "wait_for_event",
            "event": {"category": "order"},
            "since": "trigger",
            "timeout": {"hours": 20},
            "onEvent": "done",
            "onTimeout": "remind",
        },
        "remind": {"type": "send_email", "template": 3, "next": "vip"},
        "vip": {"type": "branch", "if": {"segment": 7}, "then": "crm", "else": "done"},
        "crm": {"type": "send_webhook", "webhook": "rh_0123456789abcdef", "next": "tag"},
        "tag": {
            "type": "update_profile",
            "set": {"customFields.cartReminded": True},
            "next": "done",
        },
        "done": {"type": "exit"},
    },
}

#: A flow that needs nothing of the store (the hostile suite sends it).
SIMPLE_EXAMPLE: dict[str, Any] = {
    "name": "Tag new sign-ups",
    "trigger": {"event": "Signed Up"},
    "start": "wait",
    "steps": {
        "wait": {"type": "wait", "for": {"minutes": 10}, "next": "tag"},
        "tag": {"type": "update_profile", "set": {"customFields.welcomed": True}, "next": "end"},
        "end": {"type": "exit"},
    },
}


def order_confirmation(template_id: int) -> dict[str, Any]:
    """The ready order-confirmation flow: every format's "an order was paid or placed"
    starts it, and it sends ``template_id`` at once, once per order (keyed by the store's
    order id; Redo's custom events carry none, so each event is its own key)."""
    return {
        "name": "Order confirmation",
        "trigger": {
            "any": [
                {"event": {"category": "order", "action": "paid"}, "key": "entity.id"},
                {"event": {"category": "order", "action": "completed"}, "key": "entity.id"},
                {"event": "Order Placed", "key": "event.id"},
                {"event": "Purchase Completed", "key": "event.id"},
                {"record": "order_created", "key": "entity.id"},
            ]
        },
        "entry": {"reentry": "never"},
        "start": "confirm",
        "steps": {
            "confirm": {"type": "send_email", "template": template_id, "next": "done"},
            "done": {"type": "exit"},
        },
    }


READY = {"order-confirmation": order_confirmation}

_DEFINITION = (
    "The definition: `name`, `trigger` (an `event` with `where` and `key`, a `record`, "
    "`segment_entered`/`segment_exited`, a `date`; several under `any`), `entry` (`filter`, "
    "`reentry`, `perKey`), `exitOn`, `start`, `steps`, optional `goal`. See docs/flows.md."
)

State = Literal["draft", "live", "paused"]
RunState = Literal["active", "done", "exited", "failed"]
MAX_DESCRIPTION = 2000


class FlowCreate(BaseModel):
    """A flow definition (saved as a draft; publish it to start runs)."""

    name: str = Field(max_length=200, description="Name shown in the back office.")
    description: str | None = Field(default=None, description="Optional description.")
    trigger: dict[str, Any] = Field(description="What starts a run.")
    entry: dict[str, Any] | None = Field(default=None, description="Entry rules.")
    exitOn: list[dict[str, Any]] | None = Field(
        default=None, description="Events that end a run wherever it is."
    )
    start: str = Field(description="The first step's id.")
    steps: dict[str, dict[str, Any]] = Field(description="The steps by id.")
    goal: dict[str, Any] | None = Field(
        default=None, description="A goal event and window for the conversion figures."
    )


class Flow(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "name": "Abandoned cart",
                    "description": None,
                    "state": "live",
                    "version": 2,
                    "definition": ABANDONED_CART,
                    "published": True,
                    "runs": {"active": 31, "done": 540, "exited": 212},
                    "createdAt": "2026-12-01T09:00:00Z",
                    "updatedAt": "2026-12-01T10:30:00Z",
                }
            ]
        }
    )

    id: int = Field(description="Unique identifier.")
    name: str = Field(description="Name.")
    description: str | None = Field(description="Description.")
    state: State = Field(
        description="`draft` until first published, then `live`, or `paused` (no new runs, "
        "runs held where they are)."
    )
    version: int | None = Field(description="The published version new runs start on.")
    definition: dict[str, Any] = Field(description="The definition as last saved.")
    published: bool = Field(
        description="Whether the saved definition is the published version's (false: "
        "publish to make it a new version)."
    )
    runs: dict[str, int] = Field(description="Runs by state (test runs not counted).")
    createdAt: datetime = Field(description="When it was created.")
    updatedAt: datetime = Field(description="When it last changed.")


class RunStep(BaseModel):
    seq: int = Field(description="The visit's number in the run, from 1.")
    step: str = Field(description="The step's id.")
    type: str = Field(description="The step's type.")
    status: str = Field(
        description="`waiting`, `done`, `skipped` (why: `reason`), `exited`, `failed`."
    )
    reason: str | None = Field(description="Why it was skipped, exited or how it ended.")
    detail: dict[str, Any] = Field(
        description="What it did: the message or delivery queued, the branch taken, the "
        "event that came, the moment a wait ends."
    )
    enteredAt: datetime = Field(description="When the run reached the step.")
    finishedAt: datetime | None = Field(description="When it left it (null while waiting).")


class FlowRun(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 346,
                    "flowId": 12,
                    "version": 2,
                    "contactId": 124,
                    "key": "cart_123457",
                    "state": "active",
                    "step": "check",
                    "waitingFor": {"kind": "event", "event": {"category": "order"}},
                    "wakeAt": "2026-12-02T09:10:02Z",
                    "triggerAt": "2026-12-01T09:10:00Z",
                    "trigger": {"source": "event", "event": {"name": "cart updated"}},
                    "test": False,
                    "reason": None,
                    "startedAt": "2026-12-01T09:10:01Z",
                    "finishedAt": None,
                }
            ]
        }
    )

    id: int = Field(description="Unique identifier.")
    flowId: int = Field(description="The flow.")
    version: int = Field(description="The version the run started on (and continues on).")
    contactId: int = Field(description="The contact.")
    key: str = Field(description="What names the run (the trigger's key), or empty.")
    state: RunState = Field(description="`active`, `done`, `exited` or `failed`.")
    step: str | None = Field(description="The step the run is at (or ended at).")
    waitingFor: dict[str, Any] | None = Field(
        description="What an active run waits for: a timer or an event."
    )
    wakeAt: datetime | None = Field(description="When the run is next looked at.")
    triggerAt: datetime = Field(description="The trigger's moment (the latest, if refreshed).")
    trigger: dict[str, Any] = Field(description="The trigger: its event or record.")
    test: bool = Field(description="A test run (POST /v1/flows/{id}/test).")
    reason: str | None = Field(description="Why it ended, if it did not reach an exit.")
    startedAt: datetime = Field(description="When it started.")
    finishedAt: datetime | None = Field(description="When it ended.")


class FlowRunDetail(FlowRun):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 345,
                    "flowId": 12,
                    "version": 2,
                    "contactId": 123,
                    "key": "cart_123456",
                    "state": "done",
                    "step": "done",
                    "waitingFor": None,
                    "wakeAt": None,
                    "triggerAt": "2026-12-01T09:00:00Z",
                    "trigger": {"source": "event", "event": {"name": "cart updated"}},
                    "test": False,
                    "reason": None,
                    "startedAt": "2026-12-01T09:00:01Z",
                    "finishedAt": "2026-12-02T09:00:02Z",
                    "steps": [
                        {
                            "seq": 1,
                            "step": "wait1",
                            "type": "wait",
                            "status": "done",
                            "reason": None,
                            "detail": {"until": "2026-12-01T13:00:01+00:00"},
                            "enteredAt": "2026-12-01T09:00:01Z",
                            "finishedAt": "2026-12-01T13:00:02Z",
                        },
                        {
                            "seq": 2,
                            "step": "check",
                            "type": "wait_for_event",
                            "status": "done",
                            "reason": "Timed out.",
                            "detail": {"until": "2026-12-02T09:00:02+00:00"},
                            "enteredAt": "2026-12-01T13:00:02Z",
                            "finishedAt": "2026-12-02T09:00:02Z",
                        },
                        {
                            "seq": 3,
                            "step": "remind",
                            "type": "send_email",
                            "status": "skipped",
                            "reason": "The entry filter no longer holds.",
                            "detail": {},
                            "enteredAt": "2026-12-02T09:00:02Z",
                            "finishedAt": "2026-12-02T09:00:02Z",
                        },
                    ],
                }
            ]
        }
    )

    steps: list[RunStep] = Field(description="Each step visited, in order.")


class StepStats(BaseModel):
    step: str = Field(description="The step's id (in the published version).")
    type: str = Field(description="The step's type.")
    entered: int = Field(description="Visits to the step.")
    waiting: int = Field(description="Runs waiting there now.")
    done: int = Field(description="Visits that completed.")
    exited: int = Field(description="Runs that ended there (exitOn, contact gone, flow deleted).")
    skipped: int = Field(description="Visits skipped.")
    skippedReasons: dict[str, int] = Field(description="Skips by reason.")


class Conversions(BaseModel):
    goal: dict[str, Any] = Field(description="The goal event and window.")
    runs: int = Field(description="Runs started (not test runs).")
    converted: int = Field(
        description="Runs whose contact did the goal event within the window after the run started."
    )
    rate: float = Field(description="converted / runs (0 when no run).")


class FlowStats(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "flowId": 12,
                    "runs": {"active": 31, "done": 540, "exited": 212},
                    "steps": [
                        {
                            "step": "remind",
                            "type": "send_email",
                            "entered": 560,
                            "waiting": 0,
                            "done": 548,
                            "exited": 0,
                            "skipped": 12,
                            "skippedReasons": {"The entry filter no longer holds.": 12},
                        }
                    ],
                    "conversions": {
                        "goal": {"event": "Order Placed", "withinSeconds": 259200},
                        "runs": 783,
                        "converted": 96,
                        "rate": 0.1226,
                    },
                }
            ]
        }
    )

    flowId: int = Field(description="The flow.")
    runs: dict[str, int] = Field(description="Runs by state.")
    steps: list[StepStats] = Field(description="Per step of the published version.")
    conversions: Conversions | None = Field(description="With a goal: conversions.")


class TestInput(BaseModel):
    contactId: int = Field(description="The contact the test run is for (and sends to).")
    eventId: str | None = Field(
        default=None, description="Optional: one of the contact's events as the trigger."
    )


class ReadyInput(BaseModel):
    template: int = Field(description="The email template the ready flow sends.")


# -- parsing -------------------------------------------------------------------------------


def parse_body(data: Any) -> tuple[dict[str, Any], Definition]:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    description = data.get("description")
    if description is not None and (
        not isinstance(description, str) or len(description) > MAX_DESCRIPTION
    ):
        raise ValidationFailed(
            {"description": [f"The description must be text of at most {MAX_DESCRIPTION}."]}
        )
    try:
        return data, parse_definition(data)
    except DefinitionError as exc:
        raise ValidationFailed(exc.errors) from None


def parse_test(data: Any) -> TestInput:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in ("contactId", "eventId"):
            errors[key] = ["Unknown field."]
    contact = data.get("contactId")
    if not isinstance(contact, int) or isinstance(contact, bool) or not 0 < contact <= MAX_ID:
        errors["contactId"] = ["The contactId must be a contact's id."]
    event = data.get("eventId")
    if event is not None and (not isinstance(event, str) or len(event) > 36):
        errors["eventId"] = ["The eventId must be an event's id."]
    if errors:
        raise ValidationFailed(errors)
    return TestInput(contactId=contact, eventId=event)


def parse_ready(data: Any) -> ReadyInput:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    template = data.get("template")
    extra = [k for k in data if k != "template"]
    if extra:
        raise ValidationFailed({k: ["Unknown field."] for k in extra})
    if not isinstance(template, int) or isinstance(template, bool) or not 0 < template <= MAX_ID:
        raise ValidationFailed({"template": ["The template must be a template's id."]})
    return ReadyInput(template=template)
