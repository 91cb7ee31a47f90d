"""Lindris's answer: 200 ``{"success": true, "timestamp", "uuid"}``, and Laravel's ``exists``
rule for a ``uuid`` that names no contact."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.responses import Response

from cartwheel.exceptions import AppError, NotFound, ValidationFailed
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.wire.lindris.validation import EXISTS

_encode = msgspec.json.Encoder().encode


def answer(
    event: CanonicalEvent, outcome: IngestResult | AppError, headers: Mapping[str, str] | None
) -> Response:
    result = _check(event, outcome)
    body: dict[str, Any] = {"success": True, "timestamp": int(result.received_at.timestamp())}
    if result.contact_uuid is not None:
        body["uuid"] = str(result.contact_uuid)
    # Laravel's throttle middleware puts the quota on every answer, not only on a 429.
    return Response(_encode(body), media_type="application/json", headers=headers)


def _check(event: CanonicalEvent, outcome: IngestResult | AppError) -> IngestResult:
    """A ``uuid`` that names no contact of this store — unknown, or another store's — is an
    invalid value when it is the request's only identifier (Laravel's ``exists`` rule)."""
    only_uuid = all(i.kind == "contact_uuid" for i in event.identity.identifiers)
    if isinstance(outcome, NotFound) and only_uuid:
        raise ValidationFailed({"uuid": [EXISTS.format(attribute="uuid")]})
    if isinstance(outcome, AppError):
        raise outcome
    if event.test and only_uuid and outcome.contact_uuid is None:
        raise ValidationFailed({"uuid": [EXISTS.format(attribute="uuid")]})
    return outcome
