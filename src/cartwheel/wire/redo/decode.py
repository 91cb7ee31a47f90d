"""Decoding a Redo request: the JSON body, the bulk envelope (1 to 100 events), and where
the payload limits apply (``data``'s properties are counted; every string is checked)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cartwheel.exceptions import InvalidRequest
from cartwheel.ingest.properties import Part
from cartwheel.kit.body import decode_json
from cartwheel.kit.validation import FieldErrors


def decode(body: bytes) -> dict[str, Any]:
    """A single-event request's body: one custom event."""
    return decode_item(decode_json(body))


def decode_item(value: Any) -> dict[str, Any]:
    """One custom event, which must be a JSON object."""
    if not isinstance(value, dict):
        raise InvalidRequest({"body": ["The event must be a JSON object."]})
    return value


def decode_batch(body: bytes, max_events: int) -> list[Any]:
    """The ``events`` of a bulk request (1 to ``max_events`` of them)."""
    return bulk_items(decode_json(body), max_events)


def limited(event: dict[str, Any]) -> Iterable[Part]:
    """400 properties in ``data``; 100 KB per string anywhere in the event."""
    return (Part(event.get("data"), "data", counted=True, strings=False), Part(event))


def bulk_items(body: Any, max_events: int) -> list[Any]:
    """The ``events`` of a bulk request, or :class:`InvalidRequest`."""
    if not isinstance(body, dict):
        raise InvalidRequest({"body": ["The request body must be a JSON object."]})
    errors = FieldErrors()
    for key in sorted(body.keys() - {"events"}):
        errors.add(key, f"{key} is not allowed: a bulk request has only `events`.")
    events = body.get("events")
    if events is None:
        errors.add("events", "events is required.")
    elif not isinstance(events, list):
        errors.add("events", "events must be an array of custom events.")
    elif not events:
        errors.add("events", "events must contain at least 1 event.")
    elif len(events) > max_events:
        errors.add(
            "events",
            f"events must contain at most {max_events} events (it has {len(events)}).",
        )
    errors.raise_any()
    assert isinstance(events, list)
    return events
