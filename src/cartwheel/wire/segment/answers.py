"""The tracking API's answers: ``200 {"success": true}`` once every stored message is
durable. A batch some of whose messages were refused says which (``rejected``: index,
``messageId``, status, message), still 200: the stored ones must not be sent again. A batch
none of whose messages was stored is a 400 with the same list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cartwheel.exceptions import AppError, ValidationFailed
from cartwheel.ingest.canonical import IngestResult
from cartwheel.wire.pipeline import Item
from cartwheel.wire.segment.decode import Message
from cartwheel.wire.segment.errors import BatchRejected, cors_headers

_encode = msgspec.json.Encoder().encode
_SUCCESS = _encode({"success": True})


def answer(
    request: Request, outcome: IngestResult | AppError, headers: Mapping[str, str] | None
) -> Response:
    if isinstance(outcome, AppError):
        raise outcome
    return _ok(request, _SUCCESS, headers)


def answer_batch(
    request: Request, items: list[Item[Message]], headers: Mapping[str, str] | None
) -> Response:
    rejected = [_rejected(item) for item in items if isinstance(item.outcome, AppError)]
    if not rejected:
        return _ok(request, _SUCCESS, headers)
    if len(rejected) == len(items):
        raise BatchRejected(rejected)
    return _ok(request, _encode({"success": True, "rejected": rejected}), headers)


def _rejected(item: Item[Message]) -> dict[str, Any]:
    error = item.outcome
    assert isinstance(error, AppError)
    message_id = item.payload.data.get("messageId") if item.payload is not None else None
    status = 400 if error.status_code == 422 else error.status_code
    rejected: dict[str, Any] = {"index": item.index, "status": status, "message": error.message}
    if isinstance(message_id, str):
        rejected["messageId"] = message_id
    if isinstance(error, ValidationFailed):
        rejected["errors"] = error.errors
    return rejected


def _ok(request: Request, body: bytes, headers: Mapping[str, str] | None) -> Response:
    all_headers = {**(headers or {}), **cors_headers(request)}
    return Response(body, status_code=200, media_type="application/json", headers=all_headers)
