"""Omnisend's answer: 202 with no body."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from cartwheel.exceptions import AppError
from cartwheel.ingest.canonical import IngestResult


def answer(outcome: IngestResult | AppError, headers: Mapping[str, str] | None) -> Response:
    if isinstance(outcome, AppError):
        raise outcome
    return Response(status_code=202, headers=headers)
