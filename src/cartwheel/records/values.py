"""Reading canonical entity values defensively. Adapters fill entities from untrusted
requests; a processor must not fail (and be retried five times) over a number sent as
text, so each value is coerced to what the record needs or treated as absent."""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

from cartwheel.identity.addresses import normalize_external_id
from cartwheel.ingest.properties import parse_iso_datetime
from cartwheel.models import Event

log = logging.getLogger(__name__)

#: Longest store id a record keeps (its ``external_id`` column).
MAX_ID_LENGTH = 300

#: The canonical line item keys a cart or subscription record keeps.
LINE_ITEM_KEYS = (
    "product_id",
    "variant_id",
    "name",
    "variant_name",
    "sku",
    "url",
    "image_url",
    "price",
    "quantity",
    "total",
)


def entity_of(event: Event) -> dict[str, Any]:
    return event.entity if isinstance(event.entity, dict) else {}


def entity_id(event: Event) -> str | None:
    """The store's id of the event's record, or None (logged: the event changes nothing)."""
    raw = entity_of(event).get("id")
    value = None if isinstance(raw, dict | list) else normalize_external_id(raw)
    if value is not None and len(value) > MAX_ID_LENGTH:
        value = None  # longer than any record's id column: names no record
    if value is None:
        log.info(
            "lifecycle event without a record id skipped",
            extra={"event_id": str(event.id), "category": event.category},
        )
    return value


def is_stale(event: Event, last_applied: datetime | None) -> bool:
    """Whether a newer event already shaped the record (last write wins, by event time):
    a late or replayed event then changes nothing (logged)."""
    stale = last_applied is not None and event.occurred_at < last_applied
    if stale:
        log.info(
            "stale lifecycle event skipped",
            extra={"event_id": str(event.id), "category": event.category},
        )
    return stale


def text(value: Any, limit: int = 300) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    result = str(value).strip()
    return result[:limit] if result else None


def number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    result = number(value)
    return None if result is None or abs(result) > 2**31 - 1 else round(result)


def moment(value: Any) -> datetime | None:
    return parse_iso_datetime(value) if isinstance(value, str) else None


def strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [s for s in (text(v) for v in value) if s]


def line_items(value: Any) -> list[dict[str, Any]]:
    """Canonical line items reduced to the keys records keep, ids as strings."""
    if not isinstance(value, list):
        return []
    items: list[dict[str, Any]] = []
    # Numbers are kept as numbers; ids and names as (trimmed) strings.
    for raw in value:
        if not isinstance(raw, dict):
            continue
        item: dict[str, Any] = {}
        for key in LINE_ITEM_KEYS:
            if key in ("price", "quantity", "total"):
                item[key] = number(raw.get(key))
            elif key in ("product_id", "variant_id"):
                item[key] = text(raw.get(key))
            else:
                item[key] = text(raw.get(key), 2000)
        items.append({k: v for k, v in item.items() if v is not None})
    return items
