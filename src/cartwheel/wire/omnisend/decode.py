"""Decoding an Omnisend ``/v5/events`` request, and where the payload limits apply."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cartwheel.exceptions import InvalidRequest
from cartwheel.ingest.properties import Part
from cartwheel.kit.body import decode_json


def decode(body: bytes) -> dict[str, Any]:
    data = decode_json(body)
    if not isinstance(data, dict):
        raise InvalidRequest({"body": ["'body' must be a JSON object"]})
    return data


def limited(event: dict[str, Any]) -> Iterable[Part]:
    """The event's ``properties`` are counted; every string of the request is checked."""
    return (Part(event.get("properties"), "properties", counted=True, strings=False), Part(event))
