"""Redo's answers: 202 with no body for one event; 202 with per-event results for a bulk
request, or a 400 problem carrying the same results when no event was accepted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse, Response

from cartwheel.exceptions import AppError, ValidationFailed
from cartwheel.ingest.canonical import IngestResult
from cartwheel.wire.pipeline import Item
from cartwheel.wire.redo.errors import BulkRejected, field_errors, translate
from cartwheel.wire.redo.schemas import RedoBulkResponse


def answer(outcome: IngestResult | AppError, headers: Mapping[str, str] | None) -> Response:
    if isinstance(outcome, AppError):
        raise translate(outcome)
    return Response(status_code=202, headers=headers)


def answer_batch(items: list[Item[dict[str, Any]]], headers: Mapping[str, str] | None) -> Response:
    results = [_result(item.index, item.outcome) for item in items]
    accepted = sum(1 for r in results if r["status"] == "accepted")
    # Always the per-event results (also when all were accepted): the document declares one
    # JSON shape for this 202, and a client learns which events were stored either way.
    if accepted == 0:
        raise BulkRejected(results)
    answer = RedoBulkResponse.model_validate(
        {"accepted": accepted, "rejected": len(results) - accepted, "results": results}
    )
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=202, headers=headers)


def _result(index: int, outcome: IngestResult | AppError) -> dict[str, Any]:
    if isinstance(outcome, IngestResult):
        return {"index": index, "status": "accepted"}
    error = translate(outcome)
    result: dict[str, Any] = {"index": index, "status": "rejected", "error": error.message}
    if isinstance(error, ValidationFailed):
        result["errors"] = field_errors(error)
    return result
