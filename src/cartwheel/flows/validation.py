"""A definition's references, checked against the store: every template, webhook, list and
segment it names exists (another store's is as unknown as a missing one), each at its
JSON path."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cartwheel.exceptions import ValidationFailed
from cartwheel.flows import sending
from cartwheel.flows.definition import Definition
from cartwheel.segments import repository as segments
from cartwheel.segments import service as segment_service
from cartwheel.webhooks import repository as webhooks


def check_references(session: Session, store_id: int, definition: Definition) -> None:
    errors: dict[str, list[str]] = {}

    def fail(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    conditions = []
    if definition.entry.filter is not None:
        conditions.append(definition.entry.filter)
    sender = sending.sender()
    list_ids = {s.list_id for s in definition.steps.values() if s.list_id is not None}
    found_lists = segments.existing_lists(session, store_id, list_ids)
    for step in definition.steps.values():
        if step.condition is not None:
            conditions.append(step.condition)
        if step.template is not None:
            channel = "email" if step.type == "send_email" else "sms"
            found = sender.channel_of(session, store_id, step.template)
            if found is None:
                fail(f"{step.path}.template", f"The template {step.template} does not exist.")
            elif found != channel:
                fail(f"{step.path}.template", f"The template {step.template} is for {found}.")
        if (
            step.webhook is not None
            and webhooks.get_subscription(session, store_id, step.webhook) is None
        ):
            fail(f"{step.path}.webhook", f"The webhook {step.webhook} does not exist.")
        if step.list_id is not None and step.list_id not in found_lists:
            fail(f"{step.path}.list", f"The subscriber list {step.list_id} does not exist.")
    trigger_segments = {t.segment_id for t in definition.triggers if t.segment_id is not None}
    known = segments.existing(session, store_id, trigger_segments)
    for trigger in definition.triggers:
        if trigger.segment_id is not None and trigger.segment_id not in known:
            fail(
                f"{trigger.path}.{trigger.kind}",
                f"The segment {trigger.segment_id} does not exist.",
            )
    for node in conditions:
        try:
            segment_service.check_references(session, store_id, node)
        except ValidationFailed as exc:
            for path, messages in exc.errors.items():
                for message in messages:
                    fail(path, message)
    if errors:
        raise ValidationFailed(errors)
