"""Native answers: 202 with the stored event (``EventAccepted``), or per-event results for a
batch (``BatchAccepted``), encoded by msgspec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.responses import Response

from cartwheel.exceptions import AppError, ValidationFailed
from cartwheel.ingest.canonical import IngestResult
from cartwheel.wire.native.schemas import BatchAccepted, BatchItem, EventAccepted, NativeEvent
from cartwheel.wire.pipeline import Item

_encode = msgspec.json.Encoder().encode


def answer(outcome: IngestResult | AppError, headers: Mapping[str, str] | None) -> Response:
    if isinstance(outcome, AppError):
        raise outcome
    return _json(accepted(outcome), headers)


def answer_batch(items: list[Item[NativeEvent]], headers: Mapping[str, str] | None) -> Response:
    results = [batch_item(item.index, item.outcome) for item in items]
    accepted_count = sum(1 for item in results if item.accepted)
    return _json(BatchAccepted(accepted_count, len(results) - accepted_count, results), headers)


def accepted(result: IngestResult) -> EventAccepted:
    return EventAccepted(
        id=str(result.event_id) if result.event_id else None,
        contact_id=result.contact_id,
        contact_uuid=str(result.contact_uuid) if result.contact_uuid else None,
        received_at=result.received_at,
        duplicate=result.duplicate,
    )


def batch_item(index: int, outcome: IngestResult | AppError) -> BatchItem:
    if isinstance(outcome, AppError):
        return rejected_item(index, outcome)
    return BatchItem(
        index=index,
        accepted=True,
        id=str(outcome.event_id) if outcome.event_id else None,
        contact_id=outcome.contact_id,
        contact_uuid=str(outcome.contact_uuid) if outcome.contact_uuid else None,
        received_at=outcome.received_at,
        duplicate=outcome.duplicate,
    )


def rejected_item(index: int, error: AppError) -> BatchItem:
    errors = error.errors if isinstance(error, ValidationFailed) else None
    message = next(iter(errors.values()))[0] if errors else error.message
    return BatchItem(
        index=index, accepted=False, status=error.status_code, message=message, errors=errors
    )


def _json(content: Any, headers: Mapping[str, str] | None) -> Response:
    return Response(
        _encode(content), status_code=202, media_type="application/json", headers=headers
    )
