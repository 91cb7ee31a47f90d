"""Prometheus metrics of the event log and outbox queues (no per-store labels, to keep
cardinality flat)."""

from __future__ import annotations

from prometheus_client import Counter

RETRIES = Counter(
    "cartwheel_queue_retries_total",
    "Handler failures on a queued row that were scheduled for another try, by queue",
    ["queue"],
)
DEAD_LETTERS = Counter(
    "cartwheel_queue_dead_letters_total",
    "Handler failures set aside as failed after the last try (dead letters), by queue",
    ["queue"],
)
RECOVERED = Counter(
    "cartwheel_queue_recovered_total",
    "Retries of a failed handler on a queued row that succeeded, by queue",
    ["queue"],
)
