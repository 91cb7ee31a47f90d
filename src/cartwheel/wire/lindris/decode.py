"""Decoding a Lindris request as Laravel sees it, and where the payload limits apply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from cartwheel.ingest.properties import Part


def decode(body: bytes) -> dict[str, Any]:
    """JSON that is malformed or not an object is no input at all, so the answer is the 422
    listing the required fields, as Lindris gives."""
    try:
        data = msgspec.json.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return {}
    return data if isinstance(data, dict) else {}


def limited(data: dict[str, Any]) -> Iterable[Part]:
    """The body's top-level fields and its ``properties`` are counted; every string of the
    body is checked."""
    return (Part(data, counted=True), Part(data.get("properties"), counted=True, strings=False))
