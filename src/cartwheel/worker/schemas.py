"""What the API and the CLI show of queue failures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cartwheel.models import QueueFailure


class QueueFailureView(BaseModel):
    id: int = Field(description="Failure id (the id to replay).")
    queue: str = Field(description="`events` (the event log) or `outbox` (domain changes).")
    rowId: str = Field(description="The event's id or the outbox message's id.")
    handler: str = Field(description="The handler that failed on that row (its stable name).")
    status: str = Field(
        description="`pending` (another try is due at `nextAttemptOn`) or `failed` (a dead "
        "letter: no more tries until replayed)."
    )
    attempts: int = Field(description="Tries so far (since the last replay).")
    lastError: str | None = Field(description="The last try's error, truncated.")
    nextAttemptOn: datetime | None = Field(description="When the next try is due, if pending.")
    lastAttemptOn: datetime = Field(description="When the handler was last tried.")
    failedOn: datetime | None = Field(description="When it became a dead letter, if it did.")
    createdOn: datetime = Field(description="When the handler first failed on the row.")


class ReplayResult(BaseModel):
    replayed: int = Field(description="Failed rows given a fresh set of tries.")


def failure_view(row: QueueFailure) -> QueueFailureView:
    return QueueFailureView(
        id=row.id,
        queue=row.queue,
        rowId=row.row_id,
        handler=row.handler,
        status=row.status,
        attempts=row.attempts,
        lastError=row.last_error,
        nextAttemptOn=row.next_attempt_at,
        lastAttemptOn=row.last_attempt_at,
        failedOn=row.failed_at,
        createdOn=row.created_at,
    )


def failure_json(row: QueueFailure) -> dict[str, Any]:
    """The view as plain JSON (the CLI's ``--json``)."""
    return failure_view(row).model_dump(mode="json")
